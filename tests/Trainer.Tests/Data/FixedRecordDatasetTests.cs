using Orchestrator.Trainer.Data;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Data;

public sealed class FixedRecordDatasetTests : IDisposable
{
    private static readonly RecordLayout Layout = new(new TensorLayout(ScalarType.Float32, 2, 3), new TensorLayout(ScalarType.Int64));
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Records_read_back_bit_for_bit_with_their_shapes_and_types()
    {
        var path = Numbered(40);
        using var data = new FixedRecordDataset(path, Layout, batchSize: 8);
        using var batch = data.Read(new DataCursor(0, 2, 4));

        Assert.Equal(40, data.RecordCount);
        Assert.Equal([8L, 2, 3], batch.Input.shape);
        Assert.Equal(ScalarType.Float32, batch.Input.dtype);
        Assert.Equal([8L], batch.Target.shape);
        var inputs = batch.Input.data<float>().ToArray().Chunk(6).ToArray();
        var targets = batch.Target.data<long>().ToArray();
        for (var row = 0; row < 8; row++)
        {
            Assert.Equal(Enumerable.Range(0, 6).Select(i => (targets[row] * 10) + i + 0.5f), inputs[row]);
        }
    }

    [Fact]
    public void Each_epoch_visits_every_record_once_and_the_same_cursor_reads_the_same_batch()
    {
        using var data = new FixedRecordDataset(Numbered(45), Layout, batchSize: 9);
        var first = Epoch(data, 0);

        Assert.Equal(Enumerable.Range(0, 45).Select(i => (long)i), first.Order());
        Assert.Equal(first, Epoch(data, 0));
        Assert.NotEqual(first, Epoch(data, 1));
    }

    [Fact]
    public void Shards_of_one_global_batch_are_disjoint_and_together_the_whole_batch()
    {
        var path = Numbered(64);
        var cursor = new DataCursor(3, 5, 2);
        using var whole = new FixedRecordDataset(path, Layout, batchSize: 8);
        var union = new List<long>();
        for (var rank = 0; rank < 4; rank++)
        {
            using var shard = new FixedRecordDataset(path, Layout, batchSize: 8, rank, worldSize: 4);
            union.AddRange(Targets(shard, cursor));
        }

        Assert.Equal(Targets(whole, cursor), union);
    }

    [Fact]
    public void Record_by_record_and_stacked_writes_make_the_same_file()
    {
        var stacked = Numbered(5);
        var single = _temp.Sub("single.rec");
        using (var writer = new FixedRecordWriter(single, Layout))
        {
            for (var i = 0; i < 5; i++)
            {
                using var input = Input(i);
                using var target = tensor((long)i);
                writer.Append(input, target);
            }
            writer.Commit();
        }

        Assert.Equal(File.ReadAllBytes(stacked), File.ReadAllBytes(single));
        Assert.Equal(5 * (24 + 8), new FileInfo(single).Length);
    }

    [Fact]
    public void A_writer_disposed_before_commit_leaves_no_file()
    {
        var path = _temp.Sub("abandoned.rec");
        using (var writer = new FixedRecordWriter(path, Layout))
        {
            using var input = Input(0);
            using var target = tensor(0L);
            writer.Append(input, target);
        }

        Assert.Empty(Directory.GetFiles(_temp.Path));
    }

    [Fact]
    public void Mismatched_tensors_and_files_are_refused_in_one_line()
    {
        using var writer = new FixedRecordWriter(_temp.Sub("x.rec"), Layout);
        using var wrongShape = zeros(3, 2);
        using var wrongType = zeros([2, 3], ScalarType.Float64);
        using var target = tensor(0L);
        var shape = Assert.Throws<ArgumentException>(() => writer.Append(wrongShape, target));
        Assert.Equal("input is float32[3, 2], the record layout needs float32[2, 3]", shape.Message);
        Assert.Contains("float64[2, 3]", Assert.Throws<ArgumentException>(() => writer.Append(wrongType, target)).Message);

        var cut = _temp.Sub("cut.rec");
        File.WriteAllBytes(cut, File.ReadAllBytes(Numbered(3))[..^1]);
        var error = Assert.Throws<InvalidDataException>(() => new FixedRecordDataset(cut, Layout, 1));
        Assert.Contains("has 95 bytes, not a multiple of the 32-byte record (input float32[2, 3] + target int64[])", error.Message);
        Assert.Throws<FileNotFoundException>(() => new FixedRecordDataset(_temp.Sub("none.rec"), Layout, 1));
        Assert.Contains("does not divide the batch of 6", Assert.Throws<ArgumentException>(() => new FixedRecordDataset(Numbered(12), Layout, 6, 0, 4)).Message);
    }

    /// <summary>Record i: input i·10 + 0.5, +1.5 ... +5.5 as a 2×3 float32 grid; target i.</summary>
    private string Numbered(int count)
    {
        var path = _temp.Sub($"numbered-{count}.rec");
        using var scope = NewDisposeScope();
        var inputs = stack(Enumerable.Range(0, count).Select(Input).ToArray());
        FixedRecordWriter.Write(path, Layout, inputs, arange(count, dtype: ScalarType.Int64));
        return path;
    }

    private static Tensor Input(int i) => tensor(Enumerable.Range(0, 6).Select(k => (i * 10) + k + 0.5f).ToArray(), [2, 3]);

    private static long[] Targets(FixedRecordDataset data, DataCursor cursor)
    {
        using var batch = data.Read(cursor);
        return batch.Target.data<long>().ToArray();
    }

    private static long[] Epoch(FixedRecordDataset data, long epoch) =>
        Enumerable.Range(0, (int)data.BatchesPerEpoch).SelectMany(p => Targets(data, new DataCursor(epoch, p, 6))).ToArray();
}
