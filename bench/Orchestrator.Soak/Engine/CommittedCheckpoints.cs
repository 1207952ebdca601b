namespace Orchestrator.Soak;

/// <summary>
/// The checkpoints a work dir holds, seen two ways: the folders that are committed (the save's last step
/// renames its hidden <c>.tmp-</c> folder to the final name, so a visible folder is a committed one), read
/// from the directory in an instant just before a kill; and what <c>orchestrator checkpoints list</c> says of
/// each after it (listed, and verified against its manifest).
/// </summary>
public static class CommittedCheckpoints
{
    public static IReadOnlySet<string> Before(string workDir)
    {
        var folder = Path.Combine(workDir, "checkpoints");
        if (!Directory.Exists(folder))
        {
            return new HashSet<string>();
        }
        return Directory.EnumerateDirectories(folder).Select(Path.GetFileName).OfType<string>()
            .Where(name => !name.StartsWith('.')).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Each checkpoint <c>checkpoints list</c> names, with whether it verified ("ok") or its problem.</summary>
    public static Listing After(string orchestratorDll, string workDir)
    {
        if (!Directory.Exists(workDir))
        {
            // Killed before train made its work dir: nothing was committed, and list would refuse the path.
            return new Listing(null, new Dictionary<string, string>());
        }
        var listed = OrchestratorRun.Run(orchestratorDll, ["checkpoints", "list", workDir]);
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        if (listed.ExitCode == 0)
        {
            // "iter_30   30   95.1 KiB  ok (latest)" or "... BAD: iter_30: model.weights is truncated ..."
            foreach (var line in listed.Output.Split('\n').Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length >= 5)
                {
                    var status = line[(line.IndexOf(" KiB  ", StringComparison.Ordinal) + " KiB  ".Length)..].Replace(" (latest)", "", StringComparison.Ordinal).Trim();
                    entries[fields[0]] = status;
                }
            }
        }
        return new Listing(listed.ExitCode == 0 ? null : $"checkpoints list exited {listed.ExitCode}: {listed.Tail}", entries);
    }

    /// <param name="Failure">Why the listing itself failed, or null.</param>
    /// <param name="Entries">Checkpoint name to "ok" or "BAD: problem".</param>
    public sealed record Listing(string? Failure, IReadOnlyDictionary<string, string> Entries)
    {
        public bool IsOk(string name) => Entries.TryGetValue(name, out var status) && status == "ok";

        /// <summary>The newest checkpoint that verifies, by step number: the one a rerun must resume from.</summary>
        public string? NewestValid => Entries.Where(e => e.Value == "ok").Select(e => e.Key)
            .OrderByDescending(name => long.TryParse(name.AsSpan(name.LastIndexOf('_') + 1), out var step) ? step : -1).FirstOrDefault();

        /// <summary>What happened to a checkpoint that was committed before the kill, or null if it is intact.</summary>
        public string? Lost(string name) =>
            !Entries.TryGetValue(name, out var status) ? $"{name} was committed before the kill and is no longer listed"
            : status != "ok" ? $"{name} was committed before the kill and no longer verifies ({status})"
            : null;
    }
}
