using System.Buffers.Binary;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Data;

/// <summary>
/// Next-token windows of a token file (<see cref="TokenFile"/>), memory-mapped: sample <c>k</c> is the window
/// starting at token <c>s = k·stride</c>, its input tokens [s, s+T) and its target tokens [s+1, s+T+1), both
/// int64 of shape (batch, T) for a context length T. Each epoch visits every window once, in an order fixed
/// by (shuffle seed, epoch) alone; rank <c>r</c> of <c>R</c> reads its own slice of each global batch.
/// </summary>
/// <remarks>
/// Nothing proportional to the file is held: the order is computed index by index
/// (<see cref="KeyedPermutation"/>) and the tokens are read from the mapping as a batch needs them. With
/// stride 1 an epoch is every overlapping window; stride T gives disjoint windows, an epoch of one pass
/// over the tokens.
/// </remarks>
public sealed class TokenFileDataset : IDataSource, IDisposable
{
    private readonly string _path;
    private readonly TokenWidth _width;
    private readonly int _stride;
    private readonly int? _vocabularySize;
    private readonly GlobalBatchOrder _order;
    private readonly MappedFile _file;

    /// <param name="path">A token file: raw little-endian ids of <paramref name="width"/>, no header.</param>
    /// <param name="context">T, the tokens of one input window.</param>
    /// <param name="batchSize">The global batch: all ranks together.</param>
    /// <param name="vocabularySize">When given, each batch read refuses an id at or above it.</param>
    public TokenFileDataset(string path, TokenWidth width, int context, int batchSize, int rank = 0, int worldSize = 1, int? vocabularySize = null, int stride = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(context);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);
        if (vocabularySize is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(vocabularySize), $"vocabulary size {vocabularySize} must be positive");
        }
        if (width is not (TokenWidth.UInt16 or TokenWidth.UInt32))
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"token width {(int)width} is neither 2 (uint16) nor 4 (uint32)");
        }
        _path = Path.GetFullPath(path);
        _width = width;
        _stride = stride;
        _vocabularySize = vocabularySize;
        Context = context;
        TokenCount = TokenFile.Count(_path, width);
        if (TokenCount < context + 1L)
        {
            throw new InvalidDataException($"token file {_path} holds {TokenCount} tokens, fewer than one window of {context + 1} (context {context} and the next token)");
        }
        WindowCount = ((TokenCount - context - 1) / stride) + 1;
        _order = new GlobalBatchOrder(WindowCount, batchSize, rank, worldSize, $"the {WindowCount} windows of {_path}");
        GlobalBatchSize = batchSize;
        _file = MappedFile.Open(_path, TokenCount * (int)width);
    }

    public int Context { get; }

    public long TokenCount { get; }

    /// <summary>The samples of one epoch: windows of T+1 tokens starting every <c>stride</c> tokens.</summary>
    public long WindowCount { get; }

    public long BatchesPerEpoch => _order.BatchesPerEpoch;

    public int? GlobalBatchSize { get; }

    public Batch Read(DataCursor cursor)
    {
        var samples = _order.SamplesOf(cursor);
        var rows = samples.Length;
        var inputs = new long[rows * Context];
        var targets = new long[rows * Context];
        var window = new long[Context + 1];
        // Every id is read and checked before a tensor exists, so a bad file throws without leaving tensors behind.
        for (var row = 0; row < rows; row++)
        {
            var start = samples[row] * _stride;
            ReadTokens(start, window);
            window.AsSpan(0, Context).CopyTo(inputs.AsSpan(row * Context));
            window.AsSpan(1, Context).CopyTo(targets.AsSpan(row * Context));
        }
        return new Batch(tensor(inputs, [rows, Context]), tensor(targets, [rows, Context]));
    }

    public void Dispose() => _file.Dispose();

    private void ReadTokens(long start, Span<long> destination)
    {
        var bytes = _file.Slice(start * (int)_width, destination.Length * (int)_width);
        for (var i = 0; i < destination.Length; i++)
        {
            long id = _width == TokenWidth.UInt16
                ? BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..])
                : BinaryPrimitives.ReadUInt32LittleEndian(bytes[(4 * i)..]);
            if (id >= _vocabularySize)
            {
                throw new InvalidDataException($"token file {_path}: token {id} at index {start + i} is not below the vocabulary size {_vocabularySize} (written by another tokenizer?)");
            }
            destination[i] = id;
        }
    }
}
