using Orchestrator.Trainer.Metrics;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Metrics;

/// <summary>The event file train keeps open for TensorBoard: what a flush puts on disk, and how it is framed.</summary>
public sealed class TensorBoardEventFileTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Flushed_scalars_can_be_read_while_the_file_is_open_with_their_steps_tags_values_and_wall_times()
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        using var file = new TensorBoardEventFile(_temp.Path);
        file.Add("train/loss", 0.25f, 7);
        file.Add("train/learning_rate", 0.001f, 7);
        file.Add("train/loss", 0.125f, 3_000_000_000); // past int: a long job's steps
        file.Flush();
        var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 + 0.001;

        var events = TensorBoardFiles.ReadFile(file.Path);

        Assert.Equal("brain.Event:2", events[0].FileVersion);
        Assert.Equal(
            [(7L, "train/loss", 0.25f), (7L, "train/learning_rate", 0.001f), (3_000_000_000L, "train/loss", 0.125f)],
            events.Skip(1).Select(e => (e.Step, e.Summary.Value.Single().Tag, e.Summary.Value.Single().SimpleValue)));
        Assert.All(events, e => Assert.InRange(e.WallTime, before, after));
    }

    [Fact]
    public void Scalars_added_after_the_last_flush_are_written_when_the_file_is_disposed()
    {
        string path;
        using (var file = new TensorBoardEventFile(_temp.Path))
        {
            path = file.Path;
            file.Add("job/restarts", 1, 10);
            Assert.Single(TensorBoardFiles.ReadFile(path)); // the file version only
        }

        Assert.Equal(10, TensorBoardFiles.ReadFile(path).Last().Step);
    }

    [Fact]
    public void Records_are_framed_byte_for_byte_as_TorchSharps_SummaryWriter_frames_them()
    {
        var writer = utils.tensorboard.SummaryWriter(_temp.Path, "", false);
        writer.add_scalar("train/loss", 0.5f, 1);
        writer.add_scalar("checkpoint/megabytes", 301.25f, 20);
        var path = Directory.GetFiles(_temp.Path).Single();
        var records = new TfRecordBuffer();

        foreach (var e in TensorBoardFiles.ReadFile(path))
        {
            records.Append(e);
        }

        Assert.Equal(File.ReadAllBytes(path), records.Written.ToArray());
    }
}
