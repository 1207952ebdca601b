using Orchestrator.Bench;
using static Orchestrator.Bench.GradientSyncBenchmark;

if (args.FirstOrDefault() == GradientSyncProcess.Flag)
{
    return GradientSyncProcess.Run(args); // the second process of the gradient-sync row
}
if (args.FirstOrDefault() == ShapedPeer.Flag)
{
    return ShapedPeer.Run(args); // one process of a shaped row's parts, inside its namespace
}

// Usage: dotnet run -c Release --project bench/Orchestrator.Bench -- [--quick] [--out DIR]
// Every ratio compares two measurements taken in this run, on this machine.
var quick = args.Contains("--quick");
var outIndex = Array.IndexOf(args, "--out");
var outDir = outIndex >= 0 && outIndex + 1 < args.Length ? args[outIndex + 1] : "bench-results";
if (args.Except(["--quick", "--out", outDir]).Any())
{
    Console.Error.WriteLine("usage: Orchestrator.Bench [--quick] [--out DIR]");
    return 2;
}
Directory.CreateDirectory(outDir);
// What the orchestrator host does at start-up, so the bare loop and the runtime run on the same allocator.
Orchestrator.Trainer.Runtime.NativeMemoryTuning.Apply();
var scratch = Directory.CreateDirectory(Path.Combine(outDir, "scratch")).FullName;
var repetitions = quick ? 3 : 5;
// A 1 MB save or load takes a few milliseconds, the size of this VM's jitter: many cheap samples instead
// (five gave medians from 0.59 to 0.87 of the plain write across runs of one build).
var smallCheckpointRepetitions = quick ? 9 : 25;
// One torch thread count for the whole run: libtorch's pool must not be resized while replicas of an
// earlier measurement are still being freed on their threads, and ratios compare like with like.
const int threads = 1;
// Untimed steps before each 1 MB overhead sample's window, in both loops: 1.5 to 4.5 s, past the 0.2 to 1.1 s
// in which the job's start-up code is recompiled in the background (500 steps left that inside the window).
// That happens once its methods reach the JIT's call count, after some tens of jobs in one process: a
// quick run starts too few jobs for it and keeps 500, to stay under three minutes on a slow host.
var smallWarmUpSteps = quick ? 500 : 1500;
var rows = new List<Row>();

void Measure(string what, Func<IEnumerable<Row>> run)
{
    Console.Error.WriteLine($"measuring {what} ...");
    var clock = System.Diagnostics.Stopwatch.StartNew();
    rows.AddRange(run());
    Console.Error.WriteLine($"  done in {clock.Elapsed.TotalSeconds:0.0} s");
}

if (Environment.GetEnvironmentVariable("BENCH_ONLY") is { } only)
{
    // For working on one row: BENCH_ONLY=kill runs just the kill -9 rows, and so on; a list such as
    // BENCH_ONLY=memory,checkpoint runs them in that order in one process, to see how one row affects the next.
    var kinds = new Dictionary<string, Func<IEnumerable<Row>>>(StringComparer.Ordinal)
    {
        ["kill"] = () => RecoveryBenchmark.ProcessKill(1, scratch),
        ["crash"] = () => [RecoveryBenchmark.RankCrash(1, scratch)],
        ["overhead"] = () => [OverheadBenchmark.Run(ModelSize.Small, 1, smallWarmUpSteps, 1000, 5, threads, scratch), OverheadBenchmark.Run(ModelSize.Small, 2, smallWarmUpSteps, 1000, 5, threads, scratch)],
        ["overhead-100mb"] = () => [OverheadBenchmark.Run(ModelSize.Medium, 2, 3, 7, 3, threads, scratch)],
        ["cluster"] = () => [ClusterBenchmark.Run(ModelSize.Small, 500, 1000, 3, threads, scratch), ClusterBenchmark.Run(ModelSize.Medium, 3, 7, 2, threads, scratch)],
        ["memory"] = () => [MemoryBenchmark.Run(quick ? 3_000 : 10_000, threads, scratch)],
        ["sync"] = () =>
        [
            GradientSyncBenchmark.StepRate(2000, 3, scratch),
            GradientSyncBenchmark.Run(1, 500, 3, SyncPath.Link, scratch), GradientSyncBenchmark.Run(100, 2, 3, SyncPath.Link, scratch),
            GradientSyncBenchmark.Run(1, 500, 3, SyncPath.TlsLink, scratch), GradientSyncBenchmark.Run(100, 2, 3, SyncPath.TlsLink, scratch),
            GradientSyncBenchmark.Run(100, 2, 3, SyncPath.AkkaRemote, scratch),
        ],
        ["rate"] = () => [GradientSyncBenchmark.StepRate(2000, 3, scratch)],
        ["sync-1mb"] = () => [GradientSyncBenchmark.Run(1, 500, 5, SyncPath.Link, scratch)],
        ["checkpoint"] = () =>
        [
            .. CheckpointBenchmark.Run(ModelSize.Small, smallCheckpointRepetitions, threads, scratch),
            .. CheckpointBenchmark.Run(ModelSize.Medium, quick ? 2 : repetitions, threads, scratch),
            .. (quick ? [] : CheckpointBenchmark.Run(ModelSize.Large, 5, threads, scratch)),
        ],
        ["checkpoint-small"] = () => CheckpointBenchmark.Run(ModelSize.Small, smallCheckpointRepetitions, threads, scratch),
        // Root only (network namespaces and tc): never part of the full run. R=2, 4, 8 at 1 and 10 Gbit/s
        // (R=2 and 4 when quick), the 100 MB model as the other rows; draws shaped.png into the out folder.
        ["shaped"] = () => ShapedRingBenchmark.Run(ModelSize.Medium, quick ? [2, 4] : [2, 4, 8],
            new ShapedRingBenchmark.Rounds(quick ? 1 : 2, quick ? 2 : 4), new ShapedRingBenchmark.Rounds(quick ? 2 : 3, quick ? 2 : 4), scratch, outDir),
    };
    var parts = only.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
    // Checked before anything runs, so a typo late in a list does not cost the minutes of the rows before it.
    var unknown = parts.Length == 0 ? "names no rows" : parts.Where(p => !kinds.ContainsKey(p)).Select(p => $"no rows called '{p}'").FirstOrDefault();
    if (unknown is not null)
    {
        Console.Error.WriteLine($"BENCH_ONLY={only}: {unknown}; use one of {string.Join(", ", kinds.Keys)}, or a comma-separated list of them");
        return 2;
    }
    try
    {
        foreach (var part in parts)
        {
            Measure(part, kinds[part]);
        }
    }
    catch (InvalidOperationException e)
    {
        // Caught, so that every finally on the way runs: the shaped rows' namespaces and processes go with them.
        Console.Error.WriteLine($"BENCH_ONLY={only} failed: {e.Message}");
        return 1;
    }
    // Named after the rows, so a partial run does not overwrite a full run's results.md in the same folder.
    var partial = string.Join('-', parts);
    var partialTable = Report.Markdown(rows);
    Console.WriteLine(partialTable);
    File.WriteAllText(Path.Combine(outDir, $"{partial}.md"), partialTable);
    Report.WriteJson(Path.Combine(outDir, $"{partial}.json"), rows, MachineDescription());
    Console.Error.WriteLine($"wrote {Path.Combine(outDir, partial)}.md and .json");
    return 0;
}
// First, while the process is fresh, so the resident set reflects this run alone.
Measure("memory over a long run", () => [MemoryBenchmark.Run(quick ? 3_000 : 10_000, threads, scratch)]);
// A 1 MB step takes 1 to 1.5 ms, and this VM's speed drifts over seconds: more, longer samples, alternated,
// each after smallWarmUpSteps untimed steps (see OverheadBenchmark.Run for why).
Measure("overhead, 1 MB model, R=1", () => [OverheadBenchmark.Run(ModelSize.Small, 1, smallWarmUpSteps, quick ? 200 : 1000, quick ? repetitions : 21, threads, scratch)]);
Measure("overhead, 1 MB model, R=2", () => [OverheadBenchmark.Run(ModelSize.Small, 2, smallWarmUpSteps, quick ? 200 : 1000, quick ? repetitions : 9, threads, scratch)]);
Measure("overhead, 100 MB model, R=1", () => [OverheadBenchmark.Run(ModelSize.Medium, 1, 3, quick ? 7 : 17, quick ? 2 : 5, threads, scratch)]);
if (!quick)
{
    Measure("overhead, 100 MB model, R=2", () => [OverheadBenchmark.Run(ModelSize.Medium, 2, 3, 7, 3, threads, scratch)]);
    // Six steps a sample (about 5 s): at three, samples of the same code ran 1.09 to 1.46 steps/s on either side.
    Measure("overhead, 500 MB model, R=1", () => [OverheadBenchmark.Run(ModelSize.Large, 1, 3, 6, 5, threads, scratch)]);
}
Measure("overhead, 1 MB model, R=2 on two nodes", () => [ClusterBenchmark.Run(ModelSize.Small, 500, quick ? 200 : 1000, quick ? 2 : 3, threads, scratch)]);
if (!quick)
{
    Measure("overhead, 100 MB model, R=2 on two nodes", () => [ClusterBenchmark.Run(ModelSize.Medium, 3, 7, 2, threads, scratch)]);
}
Measure("checkpoints, 1 MB model", () => CheckpointBenchmark.Run(ModelSize.Small, smallCheckpointRepetitions, threads, scratch));
Measure("checkpoints, 100 MB model", () => CheckpointBenchmark.Run(ModelSize.Medium, quick ? 2 : repetitions, threads, scratch));
if (!quick)
{
    Measure("checkpoints, 500 MB model", () => CheckpointBenchmark.Run(ModelSize.Large, 5, threads, scratch));
}
// Samples of at least a few tenths of a second: 50 steps of 1 MB (about 40 ms) read anything from 0.4 to 0.9
// from one run to the next on this VM, 500 steps 0.53 to 0.56.
Measure("gradient sync across two processes, 1 KB and 1 MB", () =>
[
    GradientSyncBenchmark.StepRate(quick ? 500 : 2000, repetitions, scratch),
    GradientSyncBenchmark.Run(1, quick ? 100 : 500, repetitions, SyncPath.Link, scratch),
    GradientSyncBenchmark.Run(1, quick ? 100 : 500, repetitions, SyncPath.TlsLink, scratch),
]);
Measure("gradient sync across two processes, 100 MB", () =>
[
    GradientSyncBenchmark.Run(100, quick ? 1 : 3, quick ? 3 : repetitions, SyncPath.Link, scratch),
    GradientSyncBenchmark.Run(100, quick ? 1 : 3, 3, SyncPath.TlsLink, scratch),
    GradientSyncBenchmark.Run(100, 1, 3, SyncPath.AkkaRemote, scratch),
]);
Measure("recovery from a rank crash", () => [RecoveryBenchmark.RankCrash(repetitions, scratch)]);
Measure("recovery from kill -9", () => RecoveryBenchmark.ProcessKill(quick ? 2 : repetitions, scratch));

Directory.Delete(scratch, recursive: true);
var machine = MachineDescription();
var table = Report.Markdown(rows);
Console.WriteLine($"Machine: {machine}{(quick ? " (quick run)" : "")}\n");
Console.WriteLine(table);
File.WriteAllText(Path.Combine(outDir, "results.md"), table);
Report.WriteJson(Path.Combine(outDir, "results.json"), rows, machine);
Console.Error.WriteLine($"wrote {Path.Combine(outDir, "results.md")} and results.json");
return 0;

string MachineDescription() =>
    $"{Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, torch threads {threads}, native memory: {Orchestrator.Trainer.Runtime.NativeMemoryTuning.Summary}";
