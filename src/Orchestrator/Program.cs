using Orchestrator.Actors.Persistence;
using Orchestrator.Cli.Commands;
using Orchestrator.Cli.Commands.Cluster;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Runtime;
using Orchestrator.Trainer.Training;

const string Usage = """
    usage: orchestrator <command> [options]

      train        train a job with checkpoints; rerun to resume     (orchestrator train --help)
      checkpoints  list, verify, inspect or export checkpoints        (orchestrator checkpoints --help)
      history      the job's events from its journal                  (orchestrator history --help)
      status       the job's state, step, loss, checkpoint, restarts  (orchestrator status --help)
      plot         loss and throughput with checkpoints and failures  (orchestrator plot --help)

      node         run a cluster node that offers its devices as ranks (orchestrator node --help)
      submit       submit a job to a cluster                           (orchestrator submit --help)
      stop         stop a cluster job with a final checkpoint          (orchestrator stop --help)
      drain        move a cluster's work off a node before removing it (orchestrator drain --help)
    """;

if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
{
    Console.WriteLine(Usage);
    return args.Length == 0 ? ExitCodes.BadInput : ExitCodes.Ok;
}
var rest = args.Skip(1).ToList();
NativeMemoryTuning.Apply(); // before any command touches a tensor
try
{
    return args[0] switch
    {
        "train" when rest.Contains("--help") => PrintHelp(TrainCommand.Help),
        "train" => TrainCommand.Run(rest),
        "checkpoints" when rest.Count == 0 || rest.Contains("--help") => PrintHelp(CheckpointsCommand.Help),
        "checkpoints" => CheckpointsCommand.Run(rest),
        "history" when rest.Contains("--help") => PrintHelp(HistoryCommand.Help),
        "history" => HistoryCommand.Run(rest),
        "status" when rest.Contains("--help") => PrintHelp(StatusCommand.Help),
        "status" => StatusCommand.Run(rest),
        "plot" when rest.Contains("--help") => PrintHelp(PlotCommand.Help),
        "plot" => PlotCommand.Run(rest),
        "node" when rest.Contains("--help") => PrintHelp(NodeCommand.Help),
        "node" => NodeCommand.Run(rest),
        "submit" when rest.Contains("--help") => PrintHelp(SubmitCommand.Help),
        "submit" => SubmitCommand.Run(rest),
        "stop" when rest.Count == 0 || rest.Contains("--help") => PrintHelp(ClusterCommands.StopHelp),
        "stop" => ClusterCommands.Stop(rest),
        "drain" when rest.Count == 0 || rest.Contains("--help") => PrintHelp(ClusterCommands.DrainHelp),
        "drain" => ClusterCommands.Drain(rest),
        _ => throw new UsageException($"unknown command '{args[0]}' (orchestrator --help lists them)"),
    };
}
catch (Exception e) when (e is UsageException or ArgumentException or CheckpointMismatchException or CorruptCheckpointException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return ExitCodes.BadInput;
}
catch (ClusterUnreachableException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return ExitCodes.Failed;
}
catch (JournalFailedException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return ExitCodes.Failed;
}
catch (TrainingFailedException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return ExitCodes.Failed;
}
catch (Exception e) when (Environment.GetEnvironmentVariable("ORCHESTRATOR_DEBUG") is null)
{
    Console.Error.WriteLine($"error: {e.GetType().Name}: {e.Message.Split('\n')[0]} (set ORCHESTRATOR_DEBUG=1 for the stack trace)");
    return ExitCodes.Failed;
}

static int PrintHelp(string text)
{
    Console.WriteLine(text);
    return ExitCodes.Ok;
}
