using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Runtime;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Bench;

/// <summary>Stall of an async save, and save/load bandwidth against plain sequential file I/O on the same disk.</summary>
internal static class CheckpointBenchmark
{
    public static IReadOnlyList<Row> Run(ModelSize size, int repetitions, int threads, string scratch)
    {
        DeterministicRuntime.Configure(1, threads);
        using var job = JobCatalog.Factory(MlpJob.Name, size.Options)();
        var state = new TrainingState(job, 1, ModelLoadOptions.Default);
        // One step, so the optimizer holds both Adam moments: a checkpoint of a model in training.
        var (_, samples) = state.ComputeGradients();
        state.ApplyStep(samples);

        var stalls = new List<double>();
        var syncSaves = new List<double>();
        var plainWrites = new List<double>();
        var loads = new List<double>();
        var plainReads = new List<double>();
        long bytes = 0;
        for (var i = 0; i < repetitions; i++)
        {
            var store = new CheckpointStore(Path.Combine(scratch, $"ckpt-{Guid.NewGuid():N}"), new CheckpointNaming());
            using (var writer = new AsyncCheckpointWriter(store, _ => []))
            {
                stalls.Add(writer.Save(() => state.Capture("schedule", 1), blocking: false).TotalSeconds);
                writer.WaitForIdle();
                writer.TryTakeCompleted(out var report);
                bytes = report.Bytes;
            }
            store.DeleteAll();
            using (var writer = new AsyncCheckpointWriter(store, _ => []))
            {
                syncSaves.Add(writer.Save(() => state.Capture("final", 1), blocking: true).TotalSeconds);
            }
            var path = store.List()[0].Path;
            loads.Add(Measurement.Seconds(() => store.Load(path)));
            plainReads.Add(Measurement.Seconds(() =>
            {
                foreach (var file in Directory.GetFiles(path))
                {
                    _ = File.ReadAllBytes(file);
                }
            }));
            plainWrites.Add(PlainWrite(Path.Combine(scratch, $"plain-{Guid.NewGuid():N}"), bytes));
            Directory.Delete(store.Directory, recursive: true);
        }
        var megabytes = bytes / 1e6;
        return
        [
            new Row($"Checkpoint stall, {size.Name} model ({megabytes:0} MB checkpoint)", "s", new(stalls), new(syncSaves), "synchronous save", 0.05, false,
                "the snapshot copies every tensor (weights and both Adam moments) into managed memory on the training thread"),
            new Row($"Checkpoint write bandwidth, {size.Name}", "MB/s", new(syncSaves.Select(s => megabytes / s).ToList()), new(plainWrites.Select(s => megabytes / s).ToList()),
                "plain sequential write + fsync", 0.8, true, "the snapshot copy into fresh arrays, and the commit's extra fsyncs (folder, parent, latest pointer) on top of the write; XXH128 and weights-sha256 run alongside"),
            new Row($"Checkpoint load + verify bandwidth, {size.Name}", "MB/s", new(loads.Select(s => megabytes / s).ToList()), new(plainReads.Select(s => megabytes / s).ToList()),
                "plain sequential read (page cache warm)", 0.8, true, "one read of each file straight into the tensors' arrays, XXH128 of every byte in the same pass"),
        ];
    }

    private static double PlainWrite(string path, long bytes)
    {
        var buffer = new byte[1 << 20];
        Random.Shared.NextBytes(buffer);
        var seconds = Measurement.Seconds(() =>
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
