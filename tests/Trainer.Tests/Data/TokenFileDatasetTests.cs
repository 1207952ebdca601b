using Orchestrator.Trainer.Data;

namespace Orchestrator.Trainer.Tests.Data;

public sealed class TokenFileDatasetTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_window_is_T_tokens_and_its_target_the_same_tokens_shifted_by_one()
    {
        using var data = Counting(tokens: 100, context: 5, batchSize: 4);
        using var batch = data.Read(DataCursor.Start(3));

        Assert.Equal([4L, 5L], batch.Input.shape);
        Assert.Equal(TorchSharp.torch.ScalarType.Int64, batch.Target.dtype);
        var inputs = batch.Input.data<long>().ToArray();
        var targets = batch.Target.data<long>().ToArray();
        for (var row = 0; row < 4; row++)
        {
            var start = inputs[row * 5];
            Assert.Equal(Enumerable.Range((int)start, 5).Select(i => (long)i), inputs.Skip(row * 5).Take(5));
            Assert.Equal(Enumerable.Range((int)start + 1, 5).Select(i => (long)i), targets.Skip(row * 5).Take(5));
        }
    }

    [Fact]
    public void Reading_is_a_pure_function_of_the_cursor()
    {
        using var data = Counting(tokens: 300, context: 8, batchSize: 8);
        using var other = Counting(tokens: 300, context: 8, batchSize: 8);
        var cursor = new DataCursor(Epoch: 2, Position: 3, ShuffleSeed: 9);

        var first = Starts(data, cursor);
        _ = Starts(data, cursor with { Epoch = 7 });

        Assert.Equal(first, Starts(data, cursor));
        Assert.Equal(first, Starts(other, cursor)); // a fresh dataset, as after a restart
    }

    [Fact]
    public void Each_epoch_visits_every_window_once_in_its_own_repeatable_order()
    {
        using var data = Counting(tokens: 83, context: 3, batchSize: 5);
        var epochs = new List<long[]>();
        var cursor = DataCursor.Start(11);
        for (var epoch = 0; epoch < 3; epoch++)
        {
            var seen = new List<long>();
            do
            {
                seen.AddRange(Starts(data, cursor));
                cursor = ((IDataSource)data).Advance(cursor);
            }
            while (cursor.Position != 0);
            epochs.Add([.. seen]);
        }

        Assert.Equal(80, data.WindowCount); // windows start at 0..79: the last one's target ends at token 82
        Assert.Equal(16, data.BatchesPerEpoch);
        Assert.All(epochs, e => Assert.Equal(Enumerable.Range(0, 80).Select(i => (long)i), e.Order()));
        Assert.NotEqual(epochs[0], epochs[1]);
        Assert.NotEqual(epochs[1], epochs[2]);
        Assert.Equal(epochs[1], EpochStarts(data, new DataCursor(1, 0, 11)));
    }

    [Fact]
    public void Shards_of_one_global_batch_are_disjoint_and_together_the_whole_batch()
    {
        using var whole = Counting(tokens: 500, context: 4, batchSize: 12);
        var cursor = new DataCursor(1, 7, 5);
        foreach (var ranks in new[] { 2, 3, 4, 6 })
        {
            var union = new List<long>();
            for (var rank = 0; rank < ranks; rank++)
            {
                using var shard = Counting(tokens: 500, context: 4, batchSize: 12, rank, ranks);
                Assert.Equal(12, shard.GlobalBatchSize);
                union.AddRange(Starts(shard, cursor));
            }

            Assert.Equal(Starts(whole, cursor), union);
            Assert.Equal(12, union.Distinct().Count());
        }
    }

    [Fact]
    public void A_stride_of_the_context_makes_disjoint_windows_and_uint32_files_read_the_same()
    {
        var path = _temp.Sub("wide.bin");
        TokenFile.Write(path, Enumerable.Range(70_000, 41), TokenWidth.UInt32);
        using var data = new TokenFileDataset(path, TokenWidth.UInt32, context: 4, batchSize: 10, stride: 4);

        Assert.Equal(10, data.WindowCount);
        using var batch = data.Read(DataCursor.Start(1));
        var starts = batch.Input.data<long>().ToArray().Chunk(4).Select(w => w[0] - 70_000).Order();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i * 4L), starts);
    }

    [Fact]
    public void Text_becomes_byte_tokens_that_decode_back_to_it()
    {
        var text = _temp.Sub("text.txt");
        File.WriteAllText(text, "Hello, wörld.\n");
        var tokens = _temp.Sub("text.bin");

        var count = ByteTokenizer.WriteTokenFile(text, tokens);

        Assert.Equal(15, count); // ö is two bytes in UTF-8
        Assert.Equal(30, new FileInfo(tokens).Length);
        using var data = new TokenFileDataset(tokens, TokenWidth.UInt16, context: 14, batchSize: 1, vocabularySize: ByteTokenizer.VocabularySize);
        using var batch = data.Read(DataCursor.Start(0));
        Assert.Equal("Hello, wörld.", ByteTokenizer.Decode(batch.Input.data<long>().ToArray().Select(t => (int)t)));
        Assert.Equal(ByteTokenizer.Encode("Hello, wörld.\n"), File.ReadAllBytes(tokens).Chunk(2).Select(p => p[0] | (p[1] << 8)));
    }

    [Fact]
    public void A_write_that_fails_midway_leaves_no_token_file()
    {
        var path = _temp.Sub("tokens.bin");
        TokenFile.Write(path, [1, 2, 3], TokenWidth.UInt16);

        Assert.Throws<ArgumentOutOfRangeException>(() => TokenFile.Write(path, [4, 5, 70_000], TokenWidth.UInt16));
        Assert.Throws<InvalidOperationException>(() => TokenFile.Write(_temp.Sub("never.bin"), Failing(), TokenWidth.UInt16));

        Assert.Equal([1, 0, 2, 0, 3, 0], File.ReadAllBytes(path)); // the earlier whole file, untouched
        Assert.False(File.Exists(_temp.Sub("never.bin")));
        Assert.Equal(["tokens.bin"], Directory.GetFiles(_temp.Path).Select(f => Path.GetFileName(f)));
    }

    [Fact]
    public void Bad_files_and_sizes_are_refused_in_one_line_that_names_the_problem()
    {
        var odd = _temp.Sub("odd.bin");
        File.WriteAllBytes(odd, new byte[7]);
        var small = _temp.Sub("small.bin");
        TokenFile.Write(small, [1, 2, 3], TokenWidth.UInt16);
        var counting = _temp.Sub("counting.bin");
        TokenFile.Write(counting, Enumerable.Range(0, 100), TokenWidth.UInt16);

        AssertOneLine<FileNotFoundException>(() => new TokenFileDataset(_temp.Sub("missing.bin"), TokenWidth.UInt16, 4, 2), "does not exist");
        AssertOneLine<InvalidDataException>(() => new TokenFileDataset(odd, TokenWidth.UInt16, 2, 1), "7 bytes, not a multiple of 2");
        AssertOneLine<InvalidDataException>(() => new TokenFileDataset(odd, TokenWidth.UInt32, 2, 1), "not a multiple of 4");
        AssertOneLine<InvalidDataException>(() => new TokenFileDataset(small, TokenWidth.UInt16, 3, 1), "holds 3 tokens, fewer than one window of 4");
        AssertOneLine<ArgumentException>(() => new TokenFileDataset(counting, TokenWidth.UInt16, 4, 10, rank: 0, worldSize: 4), "does not divide the batch of 10");
        AssertOneLine<ArgumentOutOfRangeException>(() => new TokenFileDataset(counting, TokenWidth.UInt16, 4, 97), "between 1 and 96");
        using var narrow = new TokenFileDataset(counting, TokenWidth.UInt16, 4, 8, vocabularySize: 50);
        AssertOneLine<InvalidDataException>(() => EpochStarts(narrow, DataCursor.Start(0)), "is not below the vocabulary size 50");
    }

    [Fact]
    public void Reading_past_the_epoch_or_after_dispose_is_an_error_not_a_crash()
    {
        var data = Counting(tokens: 50, context: 4, batchSize: 5);

        AssertOneLine<ArgumentOutOfRangeException>(() => data.Read(new DataCursor(0, data.BatchesPerEpoch, 1)), "outside an epoch of 9 batches");
        data.Dispose();
        Assert.Throws<ObjectDisposedException>(() => data.Read(DataCursor.Start(1)));
    }

    private TokenFileDataset Counting(int tokens, int context, int batchSize, int rank = 0, int ranks = 1)
    {
        var path = _temp.Sub($"counting-{tokens}.bin");
        if (!File.Exists(path))
        {
            TokenFile.Write(path, Enumerable.Range(0, tokens), TokenWidth.UInt16);
        }
        return new TokenFileDataset(path, TokenWidth.UInt16, context, batchSize, rank, ranks);
    }

    /// <summary>The first token of each window in the batch: with counting tokens, the window's start.</summary>
    private static long[] Starts(TokenFileDataset data, DataCursor cursor)
    {
        using var batch = data.Read(cursor);
        return batch.Input.data<long>().ToArray().Chunk(data.Context).Select(w => w[0]).ToArray();
    }

    private static long[] EpochStarts(TokenFileDataset data, DataCursor start) =>
        Enumerable.Range(0, (int)data.BatchesPerEpoch).SelectMany(p => Starts(data, start with { Position = p })).ToArray();

    private static IEnumerable<int> Failing()
    {
        yield return 1;
        throw new InvalidOperationException("the tokenizer failed");
    }

    private static void AssertOneLine<T>(Func<object> act, string expected) where T : Exception
    {
        var error = Assert.Throws<T>(act);
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }
}
