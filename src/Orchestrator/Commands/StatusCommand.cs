using System.Globalization;
using Orchestrator.Actors.Job;

namespace Orchestrator.Cli.Commands;

/// <summary><c>orchestrator status --work-dir DIR</c>: the job's state in a few lines, read from its journal.</summary>
internal static class StatusCommand
{
    public const string Help = """
        usage: orchestrator status --work-dir DIR [--journal sqlite|sqlite:FILE|postgres:CONNECTION]
               orchestrator status --cluster HOST:PORT     nodes, their health and devices, and every job

        Shows the job's state, step, loss, last checkpoint and its age, failures and restarts.
        """;

    public static int Run(IReadOnlyList<string> args)
    {
        var cluster = args.ToList().IndexOf("--cluster");
        if (cluster >= 0)
        {
            return args.Count == 2 && cluster == 0
                ? Cluster.ClusterCommands.Status(Cluster.ClusterOptions.HostPort("--cluster", args[1]))
                : throw new UsageException("status --cluster HOST:PORT takes no other options");
        }
        var (workDir, history) = JournalReader.Read("status", args);
        var state = history.State;
        var spec = state.Spec!;
        var last = state.LastCheckpoint;
        var lastEvent = history.Events[^1];
        System.Console.WriteLine($"job:        {spec.Job} in {workDir}");
        System.Console.WriteLine($"state:      {state.Status.ToString().ToLowerInvariant()}{(state.FailureReason is { } reason ? $" ({reason})" : "")}");
        System.Console.WriteLine($"step:       {state.Step} of {(spec.Steps is { } steps ? steps.ToString(CultureInfo.InvariantCulture) : $"{spec.Epochs} epochs")}");
        System.Console.WriteLine($"ranks:      {spec.Ranks}");
        System.Console.WriteLine(last is null
            ? "checkpoint: none yet"
            : string.Create(CultureInfo.InvariantCulture, $"checkpoint: {last.Name} at step {last.Step}, loss {last.Loss:0.0000}, {Age(last.At)} ago"));
        System.Console.WriteLine($"failures:   {state.Failures}, restarts: {state.Restarts.Length}");
        System.Console.WriteLine($"last event: {HistoryCommand.Describe(lastEvent).Trim()} ({Age(lastEvent.At)} ago)");
        if (state.FinalWeightsSha256 is { } digest)
        {
            System.Console.WriteLine($"weights-sha256: {digest}");
        }
        return ExitCodes.Ok;
    }

    private static string Age(DateTimeOffset at)
    {
        var age = DateTimeOffset.UtcNow - at;
        return age.TotalSeconds < 120 ? $"{age.TotalSeconds:0}s" : age.TotalMinutes < 120 ? $"{age.TotalMinutes:0}m" : $"{age.TotalHours:0.0}h";
    }
}
