using System.Net.Sockets;
using Akka.TestKit.Xunit2;
using Orchestrator.Actors.Gradients;
using Orchestrator.Actors.Protocol;
using Orchestrator.Trainer.Distributed;

namespace Orchestrator.Actors.Tests.Gradients;

/// <summary>The gradient link between a remote rank and its supervisor's hub, over a real socket on 127.0.0.1.</summary>
public sealed class GradientLinkTests : TestKit
{
    private static readonly float[] Values = [1.5f, -0.0f, float.NaN, float.Epsilon, 3e38f];

    [Fact]
    public async Task Gradient_chunks_reach_the_supervisor_and_averages_reach_the_rank_bit_for_bit()
    {
        var supervisor = CreateTestProbe();
        var rank = CreateTestProbe();
        using var hub = new GradientHub("127.0.0.1", supervisor.Ref);
        using var link = GradientLinkClient.Connect(hub.AddressFor("rank-1-g3"), rank.Ref);

        link.Send(new GradientChunk(3, 1, 40, 0, 1, Values.Length, Values, 0.25, 32));
        var received = await supervisor.ExpectMsgAsync<GradientChunk>();
        Assert.True(hub.TrySend("rank-1-g3", new AveragedChunk(3, 40, 0, 1, Values.Length, Values, 64)));
        var averaged = await rank.ExpectMsgAsync<AveragedChunk>();

        Assert.Equal((3, 1, 40L, 0.25, 32L), (received.Generation, received.Rank, received.Step, received.Loss, received.Samples));
        Assert.Equal(Bits(Values), Bits(received.Values));
        Assert.Equal((3, 40L, 64L), (averaged.Generation, averaged.Step, averaged.GlobalSamples));
        Assert.Equal(Bits(Values), Bits(averaged.Values));
    }

    [Fact]
    public async Task A_step_starts_at_the_rank_and_ends_at_the_supervisor_on_the_link()
    {
        var supervisor = CreateTestProbe();
        var rank = CreateTestProbe();
        using var hub = new GradientHub("127.0.0.1", supervisor.Ref);
        using var link = GradientLinkClient.Connect(hub.AddressFor("rank-1-g4"), rank.Ref);
        // The hub takes the link once it has read the hello; until then a step start goes by Akka instead.
        await AwaitConditionAsync(() => Task.FromResult(hub.TrySend("rank-1-g4", new ComputeGradients(4, 9, FaultKind.Nan))));

        var compute = await rank.ExpectMsgAsync<ComputeGradients>();
        Assert.True(link.Send(new StepApplied(4, 1, 10, 2, true, 0.05, Samples: 64)));
        var applied = await supervisor.ExpectMsgAsync<StepApplied>();

        Assert.Equal(new ComputeGradients(4, 9, FaultKind.Nan), compute);
        Assert.Equal(new StepApplied(4, 1, 10, 2, true, 0.05, Samples: 64), applied);
    }

    [Fact]
    public async Task A_corrupt_step_end_closes_the_link()
    {
        var supervisor = CreateTestProbe();
        var rank = CreateTestProbe();
        using var hub = new GradientHub("127.0.0.1", supervisor.Ref);
        using var client = new TcpClient("127.0.0.1", hub.AddressFor("rank-1-g1").Port);
        using var raw = new FrameConnection(client);
        var address = hub.AddressFor("rank-1-g1");
        raw.Send(GradientFrames.HelloFrame(address.Token, address.LinkId));
        var closed = new TaskCompletionSource();
        raw.StartReading((_, _, _) => default, _ => { }, _ => closed.TrySetResult());

        raw.Send(new Frame(GradientFrames.StepEnd, [1, 2, 3], ArraySegment<float>.Empty));

        await closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await supervisor.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task A_steps_chunks_land_in_one_array_at_their_places_at_both_ends()
    {
        var supervisor = CreateTestProbe();
        var rank = CreateTestProbe();
        using var hub = new GradientHub("127.0.0.1", supervisor.Ref);
        using var link = GradientLinkClient.Connect(hub.AddressFor("rank-1-g2"), rank.Ref);
        var total = Chunking.ChunkLength + 3;
        var gradients = Enumerable.Range(0, total).Select(i => (float)i).ToArray();
        var averages = gradients.Select(g => -g).ToArray();

        link.Send(new GradientChunk(2, 1, 7, 0, 2, total, Chunking.Slice(gradients, 0), 0, 1));
        link.Send(new GradientChunk(2, 1, 7, 1, 2, total, Chunking.Slice(gradients, 1), 0, 1));
        var received = new[] { await supervisor.ExpectMsgAsync<GradientChunk>(), await supervisor.ExpectMsgAsync<GradientChunk>() };
        hub.TrySend("rank-1-g2", new AveragedChunk(2, 7, 1, 2, total, Chunking.Slice(averages, 1), 2));
        hub.TrySend("rank-1-g2", new AveragedChunk(2, 7, 0, 2, total, Chunking.Slice(averages, 0), 2));
        var back = new[] { await rank.ExpectMsgAsync<AveragedChunk>(), await rank.ExpectMsgAsync<AveragedChunk>() };

        Assert.Same(received[0].Values.Array, received[1].Values.Array);
        Assert.Equal(Bits(gradients), Bits(received[0].Values.Array!));
        Assert.Same(back[0].Values.Array, back[1].Values.Array);
        Assert.Equal(Bits(averages), Bits(back[0].Values.Array!));
        Assert.Equal([Chunking.OffsetOf(1, total), 0], back.Select(c => c.Values.Offset));
    }

    [Fact]
    public async Task A_chunk_that_does_not_fit_its_gradients_closes_the_link()
    {
        var supervisor = CreateTestProbe();
        var rank = CreateTestProbe();
        using var hub = new GradientHub("127.0.0.1", supervisor.Ref);
        using var link = GradientLinkClient.Connect(hub.AddressFor("rank-1-g1"), rank.Ref);

        link.Send(new GradientChunk(1, 1, 1, 3, 1, Values.Length, Values, 0, 0)); // chunk 3 of 1

        await rank.ExpectMsgAsync<GradientLinkClosed>();
        await supervisor.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task A_connection_without_the_job_token_is_closed_and_nothing_it_sends_counts()
    {
        var supervisor = CreateTestProbe();
        var rank = CreateTestProbe();
        using var hub = new GradientHub("127.0.0.1", supervisor.Ref);
        var forged = hub.AddressFor("rank-1-g1") with { Token = new string('0', 64) };
        using var link = GradientLinkClient.Connect(forged, rank.Ref);

        link.Send(new GradientChunk(1, 1, 1, 0, 1, Values.Length, Values, 0, 0));

        await rank.ExpectMsgAsync<GradientLinkClosed>();
        await supervisor.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
        Assert.False(hub.TrySend("rank-1-g1", new AveragedChunk(1, 1, 0, 1, Values.Length, Values, 0)));
    }

    [Fact]
    public async Task A_rank_is_told_when_its_supervisor_side_goes_away()
    {
        var supervisor = CreateTestProbe();
        var rank = CreateTestProbe();
        var hub = new GradientHub("127.0.0.1", supervisor.Ref);
        using var link = GradientLinkClient.Connect(hub.AddressFor("rank-2-g1"), rank.Ref);
        link.Send(new GradientChunk(1, 2, 1, 0, 1, Values.Length, Values, 0, 0));
        await supervisor.ExpectMsgAsync<GradientChunk>();

        hub.Dispose();

        await rank.ExpectMsgAsync<GradientLinkClosed>();
    }

    [Fact]
    public void A_hub_that_cannot_be_reached_fails_the_connect_with_its_address()
    {
        var hub = new GradientHub("127.0.0.1", CreateTestProbe().Ref);
        var address = hub.AddressFor("rank-1-g1");
        hub.Dispose();

        var error = Assert.Throws<IOException>(() => GradientLinkClient.Connect(address, CreateTestProbe().Ref));

        Assert.StartsWith($"cannot open the gradient link to 127.0.0.1:{address.Port} (", error.Message);
    }

    private static int[] Bits(IEnumerable<float> values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}
