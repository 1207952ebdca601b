using Orchestrator.Trainer.Data;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Data;

public sealed class ShuffledTensorDatasetTests
{
    [Fact]
    public void Reading_is_a_pure_function_of_the_cursor()
    {
        using var data = Numbered(40, batchSize: 8);
        var cursor = new DataCursor(Epoch: 2, Position: 3, ShuffleSeed: 9);

        var first = Samples(data, cursor);
        _ = Samples(data, cursor with { Epoch = 7 }); // another epoch in between replaces the cached permutation

        Assert.Equal(first, Samples(data, cursor));
        Assert.NotEqual(Samples(data, cursor), Samples(data, cursor with { Epoch = 3 }));
        Assert.NotEqual(Samples(data, cursor), Samples(data, cursor with { ShuffleSeed = 10 }));
    }

    [Fact]
    public void An_epoch_visits_every_sample_once_and_drops_the_partial_batch()
    {
        using var data = Numbered(43, batchSize: 8);
        var seen = new List<long>();
        var cursor = DataCursor.Start(1);
        for (var i = 0; i < data.BatchesPerEpoch; i++)
        {
            seen.AddRange(Samples(data, cursor));
            cursor = ((IDataSource)data).Advance(cursor);
        }

        Assert.Equal(5, data.BatchesPerEpoch);
        Assert.Equal(new DataCursor(1, 0, 1), cursor);
        Assert.Equal(40, seen.Distinct().Count());
    }

    [Fact]
    public void Shards_of_one_global_batch_are_disjoint_and_cover_it()
    {
        using var whole = Numbered(64, batchSize: 16);
        var cursor = new DataCursor(0, 2, 5);
        var union = new List<long>();
        for (var rank = 0; rank < 4; rank++)
        {
            using var shard = Numbered(64, batchSize: 16, rank, ranks: 4);
            union.AddRange(Samples(shard, cursor));
        }

        Assert.Equal(Samples(whole, cursor), union);
    }

    [Fact]
    public void Bad_sizes_are_refused_with_a_reason()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Numbered(10, batchSize: 11));
        Assert.Contains("between 1 and 10", error.Message);
        Assert.Throws<ArgumentException>(() => Numbered(64, batchSize: 10, rank: 0, ranks: 4));
    }

    private static ShuffledTensorDataset Numbered(int count, int batchSize, int rank = 0, int ranks = 1) =>
        new(arange(count, dtype: ScalarType.Int64).unsqueeze(1), arange(count, dtype: ScalarType.Int64), batchSize, rank, ranks);

    private static long[] Samples(ShuffledTensorDataset data, DataCursor cursor)
    {
        using var batch = data.Read(cursor);
        return batch.Target.data<long>().ToArray();
    }
}
