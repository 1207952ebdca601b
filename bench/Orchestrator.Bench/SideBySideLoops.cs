using System.Diagnostics;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Runtime;
using static TorchSharp.torch;

namespace Orchestrator.Bench;

/// <summary>
/// R bare loops at once, one replica and one data shard each on a thread of its own, that never exchange
/// anything: what R ranks could reach on this machine if averaging their gradients cost nothing. On 2 cores
/// the replicas share the memory bus and the caches, so this is the limit an R-rank row can approach, where
/// one bare loop is the limit of one rank.
/// </summary>
internal static class SideBySideLoops
{
    /// <summary>Steps per second that every replica has taken, as a job's steps count once for all its ranks.</summary>
    public static double Run(ModelSize size, int replicas, int warmUpSteps, int steps, int threads)
    {
        DeterministicRuntime.Configure(1, threads);
        // Built one after another on this thread: the torch generator that initialises them is global.
        var jobs = Enumerable.Range(0, replicas).Select(rank => JobCatalog.Factory(MlpJob.Name, size.Options with { Rank = rank, Ranks = replicas })()).ToList();
        try
        {
            using var start = new Barrier(replicas + 1);
            var failures = new Exception?[replicas];
            var loops = jobs.Select((job, rank) => new Thread(() =>
            {
                var started = false;
                try
                {
                    set_num_threads(threads); // OpenMP keeps the count per thread
                    var step = OverheadBenchmark.StepOf(job);
                    for (var i = 0; i < warmUpSteps; i++)
                    {
                        step();
                    }
                    started = true;
                    start.SignalAndWait();
                    for (var i = 0; i < steps; i++)
                    {
                        step();
                    }
                }
                catch (Exception e)
                {
                    failures[rank] = e;
                    if (!started)
                    {
                        start.RemoveParticipant(); // never leave the others waiting at the start
                    }
                }
            })
            { Name = $"bare-replica-{rank}" }).ToList();
            loops.ForEach(t => t.Start());
            start.SignalAndWait();
            var clock = Stopwatch.StartNew();
            loops.ForEach(t => t.Join());
            var elapsed = clock.Elapsed;
            if (failures.FirstOrDefault(f => f is not null) is { } failure)
            {
                throw new InvalidOperationException($"a side-by-side bare loop failed: {failure.Message}", failure);
            }
            return steps / elapsed.TotalSeconds;
        }
        finally
        {
            jobs.ForEach(j => j.Dispose());
        }
    }

    /// <summary>The name an R-rank row gives this reference in the JSON.</summary>
    public const string ReferenceName = "bare loops side by side, one replica each, no synchronisation";

    /// <summary>The row's text on them: their rate, their share of one loop, and the ranks' share of them.</summary>
    public static string Described(int replicas, Measurement sideBySide, Measurement oneLoop, Measurement ranks) =>
        $"{replicas} bare loops side by side, one replica each and no synchronisation, ran {Report.Range(sideBySide)} steps/s, "
        + $"{sideBySide.Median / oneLoop.Median:0.00} of one loop: the share this machine's cores and memory allow; the ranks reached {ranks.Median / sideBySide.Median:0.00} of them";
}
