using static TorchSharp.torch;

namespace Orchestrator.Trainer.Data;

/// <summary>
/// Samples of a binary file of fixed-size records (<see cref="RecordLayout"/>, written by
/// <see cref="FixedRecordWriter"/>), memory-mapped: each batch copies only its own records out of the page
/// cache. Each epoch visits every record once, in an order fixed by (shuffle seed, epoch) alone; rank
/// <c>r</c> of <c>R</c> reads its own slice of each global batch, as <see cref="TokenFileDataset"/> does.
/// </summary>
public sealed class FixedRecordDataset : IDataSource, IDisposable
{
    private readonly RecordLayout _layout;
    private readonly GlobalBatchOrder _order;
    private readonly MappedFile _file;

    /// <param name="batchSize">The global batch: all ranks together.</param>
    public FixedRecordDataset(string path, RecordLayout layout, int batchSize, int rank = 0, int worldSize = 1)
    {
        var fullPath = Path.GetFullPath(path);
        var bytes = MappedFile.LengthOf(fullPath, "record file");
        if (bytes % layout.RecordBytes != 0)
        {
            throw new InvalidDataException($"record file {fullPath} has {bytes} bytes, not a multiple of the {layout.RecordBytes}-byte record ({layout}): another layout, or a file cut short");
        }
        if (bytes == 0)
        {
            throw new InvalidDataException($"record file {fullPath} is empty");
        }
        _layout = layout;
        RecordCount = bytes / layout.RecordBytes;
        _order = new GlobalBatchOrder(RecordCount, batchSize, rank, worldSize, $"the {RecordCount} records of {fullPath}");
        GlobalBatchSize = batchSize;
        _file = MappedFile.Open(fullPath, bytes);
    }

    public long RecordCount { get; }

    public long BatchesPerEpoch => _order.BatchesPerEpoch;

    public int? GlobalBatchSize { get; }

    public Batch Read(DataCursor cursor)
    {
        var offsets = _order.SamplesOf(cursor).Select(sample => sample * _layout.RecordBytes).ToArray(); // throws before any tensor exists
        var input = Gather(offsets, 0, _layout.Input);
        try
        {
            return new Batch(input, Gather(offsets, _layout.Input.Bytes, _layout.Target));
        }
        catch
        {
            input.Dispose();
            throw;
        }
    }

    public void Dispose() => _file.Dispose();

    /// <summary>One tensor of shape (rows, ...field) filled straight from the mapping, no managed copy.</summary>
    private Tensor Gather(long[] offsets, long within, TensorLayout field)
    {
        var result = empty([offsets.Length, .. field.Shape], field.DType);
        var destination = result.bytes;
        var size = checked((int)field.Bytes);
        for (var row = 0; row < offsets.Length; row++)
        {
            _file.Slice(offsets[row] + within, size).CopyTo(destination.Slice(row * size, size));
        }
        return result;
    }
}
