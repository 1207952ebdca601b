using System.Diagnostics;
using System.Globalization;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Interop;
using Orchestrator.Trainer.Runtime;

namespace Orchestrator.Cli.Commands;

/// <summary>
/// <c>orchestrator checkpoints export</c>: a checkpoint's weights (and optimizer state) as safetensors or as a
/// PyTorch <c>.pt</c>. The checkpoint is read through the store, every file verified against its manifest,
/// and one that does not verify is refused; the output is checked before the checkpoint is read, and
/// appears only once it is whole.
/// </summary>
internal static class CheckpointExportCommand
{
    public const string Usage = "orchestrator checkpoints export CKPT|DIR --format safetensors|pytorch --out FILE [--prefix P] [--with-optimizer] [--force]";

    private static readonly TimeSpan QuietFor = TimeSpan.FromSeconds(1);

    public static int Run(IReadOnlyList<string> args)
    {
        var parsed = ParsedArguments.Parse("checkpoints export", args, new HashSet<string> { "--format", "--out", "--prefix" }, new HashSet<string> { "--with-optimizer", "--force" });
        if (parsed.Positionals.Count != 1)
        {
            throw new UsageException($"expected one checkpoint (or work dir) to export: {Usage}");
        }
        var format = parsed.Value("--format") switch
        {
            "safetensors" => ExportFormat.Safetensors,
            "pytorch" => ExportFormat.PyTorch,
            null => throw new UsageException($"checkpoints export needs --format safetensors or --format pytorch: {Usage}"),
            var other => throw new UsageException($"--format {other} is not known; give safetensors or pytorch"),
        };
        var outText = parsed.Value("--out") ?? throw new UsageException($"checkpoints export needs --out FILE: {Usage}");
        var request = new ExportRequest(format, WorkDirCheck.FullPath("--out", outText), parsed.Value("--prefix") ?? "", parsed.Has("--with-optimizer"));
        RequireOutputs(request, parsed.Has("--force"));
        var stopwatch = Stopwatch.StartNew();
        var checkpoint = Load(parsed.Positionals[0]);
        var loaded = stopwatch.Elapsed;
        ExportResult result;
        try
        {
            result = CheckpointExport.Run(checkpoint, request, Progress(stopwatch));
        }
        catch (ExportException e)
        {
            throw new UsageException(e.Message);
        }
        catch (Exception e) when (DiskFull.Is(e))
        {
            Console.Error.WriteLine($"error: no space left on {Path.GetDirectoryName(request.OutPath)} while exporting to {request.OutPath} (nothing was written under that name and the checkpoint is unchanged; free space and rerun)");
            return ExitCodes.Failed;
        }
        catch (UnauthorizedAccessException)
        {
            throw new UsageException($"cannot write in {Path.GetDirectoryName(request.OutPath)} (permission denied); give an --out in a folder you can write");
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"error: writing {request.OutPath} failed ({e.Message.TrimEnd('.')}); nothing was written under that name and the checkpoint is unchanged");
            return ExitCodes.Failed;
        }
        foreach (var file in result.Files)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {file.Path} ({file.Bytes / 1e6:0.0##} MB)"));
        }
        var optimizer = result.OptimizerType is null ? "" : $", {Shown(result.OptimizerType)} state of {result.OptimizerStates} parameters";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"exported {Shown(checkpoint.Name)} (job {Shown(checkpoint.Info.Job)}, step {checkpoint.Info.Iteration}) as {(format == ExportFormat.Safetensors ? "safetensors" : "pytorch")}: {result.Tensors} tensors{optimizer} (read and verified in {loaded.TotalSeconds:0.00} s, written in {(stopwatch.Elapsed - loaded).TotalSeconds:0.00} s)"));
        Console.WriteLine($"weights-sha256: {Shown(result.WeightsSha256)}");
        return ExitCodes.Ok;
    }

    /// <summary>
    /// One checkpoint folder, or a work dir (or checkpoints folder) meaning its newest checkpoint that verifies;
    /// a checkpoint that does not verify is refused, never exported.
    /// </summary>
    private static LoadedCheckpoint Load(string path)
    {
        if (string.IsNullOrWhiteSpace(path) || !Directory.Exists(path))
        {
            throw new UsageException($"{path} is not a directory (give a checkpoint folder or a work dir)");
        }
        WorkDirCheck.RequireReadableWorkDir(path);
        var full = Path.GetFullPath(path);
        if (CheckpointsCommand.IsSingleCheckpoint(full))
        {
            try
            {
                return new CheckpointStore(Path.GetDirectoryName(full)!, CheckpointNaming.AnyNumbered).Load(full);
            }
            catch (CorruptCheckpointException e)
            {
                throw new UsageException($"{Shown(e.Message)}; a checkpoint that does not verify is not exported (checkpoints verify {Shown(path)})");
            }
        }
        var nested = Path.Combine(full, "checkpoints");
        var store = new CheckpointStore(Directory.Exists(nested) ? nested : full, CheckpointNaming.AnyNumbered);
        var (checkpoint, skipped) = store.LoadLatestValid();
        foreach (var problem in skipped)
        {
            Console.Error.WriteLine($"skipped: {Shown(problem)}");
        }
        if (checkpoint is null)
        {
            throw new UsageException($"{Shown(path)} holds no checkpoint that verifies{(skipped.Count > 0 ? $" ({skipped.Count} do not)" : "")}; give a work dir or checkpoint folder of a 'train' run");
        }
        Console.WriteLine($"exporting {Shown(checkpoint.Name)}, the newest valid checkpoint in {Shown(store.Directory)}");
        return checkpoint;
    }

    /// <summary>The output's folder exists and takes new files, and no output exists unless --force: checked before the checkpoint is read.</summary>
    private static void RequireOutputs(ExportRequest request, bool force)
    {
        foreach (var output in CheckpointExport.OutputsOf(request))
        {
            if (Directory.Exists(output))
            {
                throw new UsageException($"--out {output} is a folder; give a file's path");
            }
            if (File.Exists(output) && !force)
            {
                throw new UsageException($"{output} exists; give another --out or add --force to replace it");
            }
        }
        var folder = Path.GetDirectoryName(request.OutPath)!;
        if (!Directory.Exists(folder))
        {
            throw new UsageException(File.Exists(folder)
                ? $"--out {request.OutPath}: {folder} is a file, not a folder"
                : $"--out {request.OutPath}: folder {folder} does not exist; create it or give another --out");
        }
        var probe = Path.Combine(folder, $".orchestrator-write-test-{Guid.NewGuid():N}");
        try
        {
            using var stream = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (UnauthorizedAccessException)
        {
            throw new UsageException($"cannot write in {folder} (permission denied); give an --out in a folder you can write");
        }
        catch (IOException e)
        {
            throw new UsageException($"cannot write in {folder} ({e.Message.TrimEnd('.')}); give an --out in a folder you can write");
        }
    }

    /// <summary>Bytes written, on stderr, once a second after the command's first second: a small export prints nothing.</summary>
    private static Action<long, long> Progress(Stopwatch stopwatch)
    {
        var next = QuietFor;
        return (written, total) =>
        {
            if (stopwatch.Elapsed < next)
            {
                return;
            }
            next = stopwatch.Elapsed + TimeSpan.FromSeconds(1);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"export: {written / 1e6:0.0} MB written of {Math.Max(written, total) / 1e6:0.0} MB ({100.0 * Math.Min(written, total) / Math.Max(total, 1):0}%)"));
        };
    }

    private static string Shown(string? fromCheckpoint) => PrintableText.Escape(fromCheckpoint);
}
