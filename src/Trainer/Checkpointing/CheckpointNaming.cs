using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// Checkpoint folder names from a template: <c>{n}</c> is the iteration (required, the sort key),
/// <c>{epoch}</c> the epoch. Prefix and extension are whatever surrounds them, e.g. <c>run1_iter_{n}.ckpt</c>.
/// The latest checkpoint is the one with the largest <c>{n}</c>, never the newest file time.
/// </summary>
public sealed class CheckpointNaming
{
    public const string IterationTemplate = "iter_{n}";
    public const string EpochTemplate = "epoch_{epoch}_iter_{n}";

    /// <summary>
    /// The longest folder name a template may make with the largest numbers: a save first writes
    /// <c>.tmp-NAME-GUID</c> (and a discard renames to <c>.discard-NAME-GUID</c>), 42 bytes more, and the
    /// file system allows 255; 200 leaves a margin.
    /// </summary>
    public const int MaxNameBytes = 200;

    private readonly Regex _pattern;

    private CheckpointNaming(Regex pattern, string template)
    {
        _pattern = pattern;
        Template = template;
    }

    /// <summary>
    /// For tools that inspect a directory without knowing the run's template: every visible folder whose
    /// name holds a number, ordered by its last number.
    /// </summary>
    public static CheckpointNaming AnyNumbered { get; } = new(new Regex("^[^.].*?(?<n>\\d+)\\D*$", RegexOptions.CultureInvariant), "*{n}*");

    public CheckpointNaming(string template = IterationTemplate)
    {
        if (!template.Contains("{n}", StringComparison.Ordinal))
        {
            throw new ArgumentException($"checkpoint name template '{Shown(template)}' lacks {{n}}, the iteration number");
        }
        if (template.IndexOfAny(['/', '\\']) >= 0 || template.StartsWith('.') || template.Any(char.IsControl))
        {
            throw new ArgumentException($"checkpoint name template '{Shown(template)}' must be a plain folder name (no '/', '\\', control characters or leading '.')");
        }
        if (template.Replace("{n}", "", StringComparison.Ordinal).Replace("{epoch}", "", StringComparison.Ordinal).IndexOfAny(['{', '}']) >= 0)
        {
            throw new ArgumentException($"checkpoint name template '{Shown(template)}' has a brace that is not {{n}} (the iteration) or {{epoch}}; only those two are filled in");
        }
        var longest = Encoding.UTF8.GetByteCount(Fill(template, long.MaxValue, long.MaxValue));
        if (longest > MaxNameBytes)
        {
            throw new ArgumentException($"checkpoint name template '{Shown(template)}' makes names of up to {longest} bytes; keep it to {MaxNameBytes} (the file system's limit is 255, less the save's temporary prefix and suffix)");
        }
        Template = template;
        var regex = Regex.Escape(template)
            .Replace(Regex.Escape("{n}"), "(?<n>\\d+)", StringComparison.Ordinal)
            .Replace(Regex.Escape("{epoch}"), "\\d+", StringComparison.Ordinal);
        _pattern = new Regex("^" + regex + "$", RegexOptions.CultureInvariant);
    }

    public string Template { get; }

    public string Format(long iteration, long epoch) => Fill(Template, iteration, epoch);

    private static string Fill(string template, long iteration, long epoch) => template
        .Replace("{n}", iteration.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{epoch}", epoch.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    // A template goes into one-line messages: control characters shown as '?', a long one cut.
    private static string Shown(string template)
    {
        var plain = new string([.. template.Select(c => char.IsControl(c) ? '?' : c)]);
        return plain.Length > 60 ? plain[..57] + "..." : plain;
    }

    public bool TryParse(string name, out long iteration)
    {
        var match = _pattern.Match(name);
        iteration = match.Success ? long.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture) : -1;
        return match.Success;
    }
}
