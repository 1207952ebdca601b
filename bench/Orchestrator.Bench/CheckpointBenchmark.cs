using System.Diagnostics;
using System.Runtime;
using Orchestrator.Actors.Protocol;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Runtime;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Bench;

/// <summary>Stall of an async save, and save/load bandwidth against plain sequential file I/O on the same disk.</summary>
/// <remarks>
/// The stall is what the training thread pays for an async save: the capture (the writer's back-pressure
/// included) plus the wait at the next optimizer step for the snapshot's background copy, timed at that
/// fence during real steps. A second row gives everything the save costs the step loop: the save and the
/// steps taken until its write is committed, against as many plain steps, so a copy and a write that slow
/// training down by sharing cores and memory show there.
/// </remarks>
internal static class CheckpointBenchmark
{
    /// <summary>The stall goal (at most 5% of a synchronous save) is set for models of at least 100 MB.</summary>
    private const long StallGoalFromBytes = 100_000_000;

    public static IReadOnlyList<Row> Run(ModelSize size, int repetitions, int threads, string scratch)
    {
        DeterministicRuntime.Configure(1, threads);
        using var job = JobCatalog.Factory(MlpJob.Name, size.Options)();
        var state = new TrainingState(job, 1, ModelLoadOptions.Default);
        // One step, so the optimizer holds both Adam moments: a checkpoint of a model in training.
        TimedStep(state);
        // One store and one writer for every save, as rank 0 keeps them for a whole job.
        var store = new CheckpointStore(Path.Combine(scratch, $"ckpt-{Guid.NewGuid():N}"), new CheckpointNaming());
        using var writer = new AsyncCheckpointWriter(store, _ => []);
        // The first save of a run allocates the host arrays that later saves copy into; timed apart.
        var first = AsyncSave(state, writer, TimedStep(state), out _);
        // So does the first load of a process, whose code the JIT compiles then (the kill -9 rows count
        // that): the first 1 MB load timed ran at about 90 MB/s, the others at 1,000 and more.
        store.Load(store.List()[0].Path);
        store.DeleteAll();

        var stalls = new List<double>();
        var costs = new List<double>();
        var plainSteps = new List<double>();
        var syncSaves = new List<double>();
        var plainWrites = new List<double>();
        var loads = new List<double>();
        var plainReads = new List<double>();
        long bytes = 0;
        for (var i = 0; i < repetitions; i++)
        {
            plainSteps.Add(TimedStep(state));
            plainSteps.Add(TimedStep(state));
            var (stall, cost) = AsyncSave(state, writer, new Measurement(plainSteps).Median, out bytes);
            stalls.Add(stall);
            costs.Add(cost);
            store.DeleteAll();
            // Each measurement and its baseline start from a full GC and take turns going first: writes and
            // reads both wait on memory the kernel hands out (page cache, fresh arrays), and here how fast that
            // came swung 5 times over with what ran just before. So each write also follows the deletion of
            // as many bytes (the async save's files, or the other write's), whose pages it may reuse.
            void SyncSaveAndLoads()
            {
                syncSaves.Add(SettledSeconds(() => writer.Save(inPlace => state.Capture("final", 1, inPlace), blocking: true)));
                // The collection the writer runs after a save stops every thread: a read it overlapped took
                // up to 10 times as long (1 MB loads at 91 to 1107 MB/s in one run).
                writer.WaitForIdle();
                var path = store.List()[0].Path;
                // Whichever read went first after the save got fresh memory and ran at 1.8 to 2.5 GB/s, the
                // other reused what it freed and ran at 5 to 7: an untimed read first puts both second.
                ReadAll(path);
                InTurns(i, () => loads.Add(SettledSeconds(() => store.Load(path))), () => plainReads.Add(SettledSeconds(() => ReadAll(path))));
                store.DeleteAll();
            }
            void Plain() => plainWrites.Add(PlainWrite(Path.Combine(scratch, $"plain-{Guid.NewGuid():N}"), bytes));
            InTurns(i, SyncSaveAndLoads, Plain);
        }
        Directory.Delete(store.Directory, recursive: true);
        var megabytes = bytes / 1e6;
        return
        [
            new Row($"Checkpoint stall, {size.Name} model ({megabytes:0} MB checkpoint)", "s", new(stalls), new(syncSaves), "synchronous save", size.ParameterBytes >= StallGoalFromBytes ? 0.05 : null, false,
                "the capture on the training thread (buffers, generator, counters, optimizer options), then the wait at the next optimizer step "
                + $"for the background copy of weights and Adam moments into the previous save's host arrays; the first save of a run allocates them: {first.Stall:0.000} s"),
            new Row($"Checkpoint cost to the step loop, {size.Name} model", "s", new(costs), new(syncSaves), "synchronous save", null, false,
                $"the save and the steps taken until its write is committed, minus as many plain steps ({new Measurement(plainSteps).Median:0.000} s each): "
                + "the stall plus the background copy, hashing and writing competing with training for cores and memory"),
            new Row($"Checkpoint write bandwidth, {size.Name}", "MB/s", new(syncSaves.Select(s => megabytes / s).ToList()), new(plainWrites.Select(s => megabytes / s).ToList()),
                "plain sequential write + fsync", 0.8, true, "a synchronous save, written on the training thread: the capture, then three files (weights, optimizer state, the sealed manifest) plus the latest pointer's next content, and a folder, against one file; the weights straight from the live tensors while the optimizer's state is copied beside them; each file's writeback started as it is written, all fsynced in one round (the first fsync commits the journal, each further one flushes the disk's cache, 0.06 to 0.2 ms), the rename and the parent's fsync. At 1 MB, timed apart: the weights 0.4 ms and the optimizer's state 0.6 ms (its copy, 0.2 ms, and the weights' SHA-256, 0.6 ms, run on the copier beside them), manifest and pointer 0.17 ms, the fsync round 1.2 to 1.35 ms (the first fsync 1.1, each further one 0.05), rename, the folder's fsync and the pointer 0.15 ms; each sample from a full GC, the two in turns", Paired: true),
            new Row($"Checkpoint load + verify bandwidth, {size.Name}", "MB/s", new(loads.Select(s => megabytes / s).ToList()), new(plainReads.Select(s => megabytes / s).ToList()),
                "plain sequential read (page cache warm)", 0.8, true, "the files read side by side, each once, straight into the tensors' arrays, XXH128 of every byte in the same pass; the optimizer's state, twice the weights, in two parts so each thread reads about half the bytes (its tail hashed after); both read into fresh arrays, so page faults bound them: each sample from a full GC, the two in turns", Paired: true),
        ];
    }

    /// <summary>
    /// An async save after a step, then steps as the training loop takes them until the write is committed.
    /// Returns the stall (capture plus the wait at the next step's fence) and what the save cost the loop:
    /// the time of it all minus that many plain steps.
    /// </summary>
    private static (double Stall, double Cost) AsyncSave(TrainingState state, AsyncCheckpointWriter writer, double plainStep, out long bytes)
    {
        var clock = Stopwatch.StartNew();
        var stall = writer.Save(inPlace => state.Capture("schedule", 1, inPlace), blocking: false);
        var steps = 0;
        SaveReport? report;
        do
        {
            var (_, samples) = state.ComputeGradients();
            stall += state.WaitForCapture();
            state.ApplyStep(samples);
            steps++;
        }
        while (!writer.TryTakeCompleted(out report));
        var cost = clock.Elapsed.TotalSeconds - (steps * plainStep);
        writer.WaitForIdle();
        bytes = report.Bytes;
        return (stall.TotalSeconds, cost);
    }

    private static double TimedStep(TrainingState state) => Measurement.Seconds(() =>
    {
        var (_, samples) = state.ComputeGradients();
        state.ApplyStep(samples);
    });

    /// <summary>Runs both, the first going first on even turns and second on odd ones.</summary>
    private static void InTurns(int turn, Action first, Action second)
    {
        if (turn % 2 == 0)
        {
            first();
            second();
        }
        else
        {
            second();
            first();
        }
    }

    private static void ReadAll(string folder)
    {
        foreach (var file in Directory.GetFiles(folder))
        {
            _ = File.ReadAllBytes(file);
        }
    }

    private static double SettledSeconds(Action work)
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return Measurement.Seconds(work);
    }

    private static double PlainWrite(string path, long bytes)
    {
        var buffer = new byte[1 << 20];
        Random.Shared.NextBytes(buffer);
        var seconds = SettledSeconds(() =>
        {
            using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
            for (long written = 0; written < bytes; written += buffer.Length)
            {
                stream.Write(buffer, 0, (int)Math.Min(buffer.Length, bytes - written));
            }
            stream.Flush(flushToDisk: true);
        });
        File.Delete(path);
        return seconds;
    }
}
