using System.Text.RegularExpressions;

namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// How saved weight names are revised before they are matched to the model (key surgery), and how strict
/// the match is. By default the <c>module.</c> prefix that data-parallel wrappers add is stripped.
/// </summary>
public sealed record ModelLoadOptions
{
    public static readonly ModelLoadOptions Default = new();

    public bool Strict { get; init; } = true;

    /// <summary>Removed from the start of every saved name that has it.</summary>
    public string? RemovePrefix { get; init; }

    /// <summary>Added to the start of every saved name (after <see cref="RemovePrefix"/>).</summary>
    public string? AddPrefix { get; init; }

    /// <summary>Regex rewrites applied in order to every saved name, last of all.</summary>
    public KeyRevision[] Revisions { get; init; } = [new KeyRevision("^module\\.", "")];

    /// <summary>Model names matching any of these are neither loaded nor reported missing.</summary>
    public string[] IgnoreKeys { get; init; } = [];

    public string Revise(string savedName)
    {
        var name = savedName;
        if (!string.IsNullOrEmpty(RemovePrefix) && name.StartsWith(RemovePrefix, StringComparison.Ordinal))
        {
            name = name[RemovePrefix.Length..];
        }
        if (!string.IsNullOrEmpty(AddPrefix))
        {
            name = AddPrefix + name;
        }
        foreach (var revision in Revisions)
        {
            name = Regex.Replace(name, revision.Pattern, revision.Replacement);
        }
        return name;
    }

    public bool IsIgnored(string modelName) => IgnoreKeys.Any(pattern => Regex.IsMatch(modelName, pattern));
}

public sealed record KeyRevision(string Pattern, string Replacement);
