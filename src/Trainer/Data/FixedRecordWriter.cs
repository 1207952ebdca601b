using static TorchSharp.torch;

namespace Orchestrator.Trainer.Data;

/// <summary>
/// Writes a fixed-record file for <see cref="FixedRecordDataset"/>, record by record or many at once, under a
/// temporary name: <see cref="Commit"/> renames it into place, and a writer disposed (or killed) before that
/// leaves no file a rerun would trust.
/// </summary>
public sealed class FixedRecordWriter : IDisposable
{
    private readonly RecordLayout _layout;
    private readonly PendingFile _file;

    public FixedRecordWriter(string path, RecordLayout layout)
    {
        _layout = layout;
        _file = new PendingFile(path);
    }

    public long Count { get; private set; }

    /// <summary>Appends one record: tensors of exactly the layout's shapes and types.</summary>
    public void Append(Tensor input, Tensor target)
    {
        Check(input, _layout.Input, "input", []);
        Check(target, _layout.Target, "target", []);
        WriteBytes(input);
        WriteBytes(target);
        Count++;
    }

    /// <summary>Appends records stacked along a first dimension: inputs (n, ...input) and targets (n, ...target).</summary>
    public void AppendMany(Tensor inputs, Tensor targets)
    {
        var count = inputs.shape.Length > 0 ? inputs.shape[0] : 0;
        Check(inputs, _layout.Input, "inputs", [count]);
        Check(targets, _layout.Target, "targets", [count]);
        for (var i = 0; i < count; i++)
        {
            using var input = inputs[i];
            using var target = targets[i];
            WriteBytes(input);
            WriteBytes(target);
        }
        Count += count;
    }

    public void Commit() => _file.Commit();

    public void Dispose() => _file.Dispose();

    /// <summary>Writes a whole file of the stacked records and commits it; returns the record count.</summary>
    public static long Write(string path, RecordLayout layout, Tensor inputs, Tensor targets)
    {
        using var writer = new FixedRecordWriter(path, layout);
        writer.AppendMany(inputs, targets);
        writer.Commit();
        return writer.Count;
    }

    private static void Check(Tensor tensor, TensorLayout layout, string what, long[] leading)
    {
        long[] expected = [.. leading, .. layout.Shape];
        if (tensor.dtype != layout.DType || !tensor.shape.SequenceEqual(expected))
        {
            throw new ArgumentException($"{what} is {Describe(tensor.dtype, tensor.shape)}, the record layout needs {Describe(layout.DType, expected)}");
        }
    }

    private static string Describe(ScalarType dtype, long[] shape) => $"{dtype.ToString().ToLowerInvariant()}[{string.Join(", ", shape)}]";

    private void WriteBytes(Tensor tensor)
    {
        using var scope = NewDisposeScope(); // the detached, CPU and contiguous handles are all temporaries
        _file.Stream.Write(tensor.detach().cpu().contiguous().bytes);
    }
}
