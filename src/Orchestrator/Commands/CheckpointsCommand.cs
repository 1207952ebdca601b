using System.Globalization;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Tensors;

namespace Orchestrator.Cli.Commands;

/// <summary>
/// <c>orchestrator checkpoints list|verify|inspect</c>: look at checkpoints without training. Everything a
/// checkpoint supplies (names, job, metadata, problems) is printed through <see cref="Shown"/>, so that no
/// tensor or folder name can forge a line of the output.
/// </summary>
internal static class CheckpointsCommand
{
    public const string Help = """
        usage: orchestrator checkpoints list DIR        checkpoints in a work dir (or its checkpoints folder), newest first
               orchestrator checkpoints verify DIR|CKPT  check every file's size and hash (XXH128; SHA-256 in format 1) against the manifest; exit 1 if any is bad
               orchestrator checkpoints inspect CKPT     metadata, tensors with shapes, and weights-sha256
               orchestrator checkpoints export CKPT|DIR --format safetensors|pytorch --out FILE [--prefix P] [--with-optimizer] [--force]
                                                        the weights for PyTorch (DIR: its newest valid checkpoint); --prefix is
                                                        prepended to every name; --with-optimizer adds Adam/AdamW/SGD state as
                                                        optimizer.state_dict(): in the .pt as {"model": ..., "optimizer": ...},
                                                        for safetensors in FILE.optimizer.safetensors beside it
        """;

    public static int Run(IReadOnlyList<string> args)
    {
        if (args[0] == "export")
        {
            return CheckpointExportCommand.Run(args.Skip(1).ToList());
        }
        if (args.Count != 2 || args[1].StartsWith("--", StringComparison.Ordinal))
        {
            throw new UsageException("expected 'checkpoints list DIR', 'checkpoints verify DIR|CKPT', 'checkpoints inspect CKPT' or 'checkpoints export CKPT --format F --out FILE'");
        }
        var path = args[1];
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new UsageException($"checkpoints {args[0]}: the path is empty; give a work dir, a checkpoints folder or one checkpoint");
        }
        if (!Directory.Exists(path))
        {
            throw new UsageException($"{path} is not a directory (give a work dir, a checkpoints folder or one checkpoint)");
        }
        WorkDirCheck.RequireReadableWorkDir(path);
        return args[0] switch
        {
            "list" => List(StoreFor(path)),
            "verify" => Verify(path),
            "inspect" => Inspect(path),
            _ => throw new UsageException($"unknown checkpoints command '{args[0]}' (list, verify, inspect or export)"),
        };
    }

    private static CheckpointStore StoreFor(string path)
    {
        var nested = Path.Combine(path, "checkpoints");
        return new CheckpointStore(Directory.Exists(nested) ? nested : path, CheckpointNaming.AnyNumbered);
    }

    /// <summary>Why <c>inspect</c> refuses a folder that is no checkpoint, with the command that would help.</summary>
    private static string NotACheckpoint(string path)
    {
        var nested = Directory.Exists(Path.Combine(path, "checkpoints"));
        var newest = StoreFor(path).List().FirstOrDefault()?.Name;
        var example = Shown(Path.Combine(path, nested ? "checkpoints" : "", newest ?? "iter_N"));
        var what = nested ? "a work dir" : newest is not null ? "a checkpoints folder" : "no checkpoint (it has no MANIFEST.json)";
        return $"checkpoints inspect: {Shown(path)} is {what}, not one checkpoint; see its checkpoints with 'checkpoints list {Shown(path)}' and inspect one, e.g. 'checkpoints inspect {example}'";
    }

    internal static bool IsSingleCheckpoint(string path) =>
        File.Exists(Path.Combine(path, CheckpointFormat.ManifestFile))
        || File.Exists(Path.Combine(path, CheckpointFormat.MetadataFile))
        || File.Exists(Path.Combine(path, CheckpointFormat.ModelWeightsFile));

    private static int List(CheckpointStore store)
    {
        var entries = store.List();
        if (entries.Count == 0)
        {
            Console.WriteLine($"no checkpoints in {store.Directory}");
            return ExitCodes.Ok;
        }
        var latest = store.LatestPointer;
        Console.WriteLine($"{"name",-28} {"step",8} {"size",10}  {"status"}");
        foreach (var entry in entries)
        {
            var result = store.Verify(entry.Path);
            var size = entry.RegularFileBytes();
            var marker = entry.Name == latest ? " (latest)" : "";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Shown(entry.Name),-28} {entry.Iteration,8} {size / 1024.0,7:0.0} KiB  {(result.IsValid ? "ok" : "BAD: " + Shown(result.Problem))}{marker}"));
        }
        return ExitCodes.Ok;
    }

    private static int Verify(string path)
    {
        var store = StoreFor(IsSingleCheckpoint(path) ? Path.GetDirectoryName(Path.GetFullPath(path))! : path);
        IReadOnlyList<string> targets = IsSingleCheckpoint(path) ? [Path.GetFullPath(path)] : store.List().Select(e => e.Path).ToList();
        if (targets.Count == 0)
        {
            Console.WriteLine($"no checkpoints in {store.Directory}");
            return ExitCodes.Ok;
        }
        var bad = 0;
        foreach (var target in targets)
        {
            var result = store.Verify(target);
            Console.WriteLine(result.IsValid ? $"ok   {Shown(result.Name)} (sizes and {result.Checksum} hashes match)" : $"BAD  {Shown(result.Problem)}");
            bad += result.IsValid ? 0 : 1;
        }
        Console.WriteLine($"{targets.Count - bad} ok, {bad} bad");
        return bad == 0 ? ExitCodes.Ok : ExitCodes.Failed;
    }

    private static int Inspect(string path)
    {
        if (!IsSingleCheckpoint(path))
        {
            throw new UsageException(NotACheckpoint(path));
        }
        var store = StoreFor(Path.GetDirectoryName(Path.GetFullPath(path))!);
        LoadedCheckpoint checkpoint;
        try
        {
            checkpoint = store.Load(path);
        }
        catch (CorruptCheckpointException e)
        {
            // A checkpoint that does not verify is bad input to inspect, refused like any other.
            Console.Error.WriteLine($"error: {Shown(e.Message)}");
            return ExitCodes.BadInput;
        }
        var info = checkpoint.Info;
        Console.WriteLine($"checkpoint: {Shown(checkpoint.Name)}");
        Console.WriteLine($"job: {Shown(info.Job)}");
        if (info.JobAssembly is { } assembly)
        {
            Console.WriteLine($"job assembly: {Shown(assembly.Path)}");
            Console.WriteLine($"job assembly sha256: {Shown(assembly.Sha256)}");
        }
        if (info.JobArgs is { Count: > 0 } jobArgs)
        {
            Console.WriteLine($"job args: {Shown(string.Join(" ", jobArgs.Select(a => $"{a.Key}={a.Value}")))}");
        }
        Console.WriteLine($"step: {info.Iteration}  epoch: {info.Epoch}  samples: {info.SamplesSeen}");
        Console.WriteLine($"reason: {Shown(info.Reason)}  created: {info.CreatedUtc:u}  torch threads: {info.TorchThreads}");
        Console.WriteLine($"components: {Shown(string.Join(", ", checkpoint.Components.Keys.Order(StringComparer.Ordinal)))}");
        foreach (var (name, state) in checkpoint.Components.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            foreach (var (tensorName, tensor) in state.Tensors)
            {
                Console.WriteLine($"  {Shown(name)}/{Shown(tensorName)} {tensor.DType} {tensor.ShapeText}");
            }
            if (state.Blob is not null)
            {
                Console.WriteLine($"  {Shown(name)} (opaque state, {state.Blob.Length} bytes)");
            }
            if (state.Metadata is not null)
            {
                Console.WriteLine($"  {Shown(name)}: {Shown(state.Metadata.ToJsonString())}");
            }
        }
        var digest = checkpoint.Components.TryGetValue(ModelCheckpointable.ComponentName, out var model) ? WeightsDigest.Of(model.Tensors) : "none";
        Console.WriteLine($"weights-sha256: {digest}");
        return ExitCodes.Ok;
    }

    private static string Shown(string? fromCheckpoint) => PrintableText.Escape(fromCheckpoint);
}
