using System.Globalization;
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
            throw new ArgumentException($"checkpoint name template '{template}' lacks {{n}}, the iteration number");
        }
        if (template.IndexOfAny(['/', '\\']) >= 0 || template.StartsWith('.'))
        {
            throw new ArgumentException($"checkpoint name template '{template}' must be a plain folder name");
        }
        Template = template;
        var regex = Regex.Escape(template)
            .Replace(Regex.Escape("{n}"), "(?<n>\\d+)", StringComparison.Ordinal)
            .Replace(Regex.Escape("{epoch}"), "\\d+", StringComparison.Ordinal);
        _pattern = new Regex("^" + regex + "$", RegexOptions.CultureInvariant);
    }

    public string Template { get; }

    public string Format(long iteration, long epoch) => Template
        .Replace("{n}", iteration.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{epoch}", epoch.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    public bool TryParse(string name, out long iteration)
    {
        var match = _pattern.Match(name);
        iteration = match.Success ? long.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture) : -1;
        return match.Success;
    }
}
