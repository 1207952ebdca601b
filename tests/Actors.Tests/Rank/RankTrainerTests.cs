using Akka.Actor;
using Akka.TestKit.Xunit2;
using Orchestrator.Actors.Rank;
using Orchestrator.Trainer.Distributed;
using Orchestrator.Trainer.Jobs;

namespace Orchestrator.Actors.Tests.Rank;

public sealed class RankTrainerTests : TestKit, IDisposable
{
    private readonly TempDirectory _temp = new();

    void IDisposable.Dispose()
    {
        Shutdown();
        _temp.Dispose();
    }

    [Fact]
    public async Task Only_rank_0_writes_checkpoints_another_rank_refuses_and_writes_nothing()
    {
        var checkpoints = _temp.Sub("checkpoints");
        var spec = new RankSpec(MlpJob.Name, new BuiltInJobOptions { Samples = 256 }, 1, 2, 1, checkpoints, "iter_{n}", 0);
        var rank = Sys.ActorOf(RankTrainer.Props(spec, TestActor));

        rank.Tell(new StartRank(1, null, null, false, false));
        var ready = await ExpectMsgAsync<RankReady>(TimeSpan.FromMinutes(1));
        rank.Tell(new SaveCheckpoint(1, 0, "forced", Blocking: true));
        var refused = await ExpectMsgAsync<RankWorkFailed>(TimeSpan.FromMinutes(1));

        Assert.Equal(1, ready.Rank);
        Assert.Equal("rank 1 cannot save: only rank 0 writes checkpoints", refused.Reason);
        Assert.False(Directory.Exists(checkpoints) && Directory.EnumerateFileSystemEntries(checkpoints).Any());
    }

    [Fact]
    public async Task Gradients_travel_in_chunks_that_reassemble_to_the_whole()
    {
        var spec = new RankSpec(CharLmJob.Name, new BuiltInJobOptions { Samples = 3000, Width = 800 }, 0, 1, 1, _temp.Sub("c"), "iter_{n}", 0);
        var rank = Sys.ActorOf(RankTrainer.Props(spec, TestActor));
        rank.Tell(new StartRank(1, null, null, false, false));
        await ExpectMsgAsync<RankReady>(TimeSpan.FromMinutes(1));

        rank.Tell(new ComputeGradients(1, 1, null));
        var first = await ExpectMsgAsync<GradientChunk>(TimeSpan.FromMinutes(1));
        var chunks = new List<GradientChunk> { first };
        for (var i = 1; i < first.Count; i++)
        {
            chunks.Add(await ExpectMsgAsync<GradientChunk>(TimeSpan.FromMinutes(1)));
        }

        Assert.True(first.Count > 1, "the model is large enough to need several chunks");
        Assert.Equal(first.TotalLength, chunks.Sum(c => c.Values.Count));
        Assert.Equal(Enumerable.Range(0, first.Count), chunks.Select(c => c.Index));
    }
}
