using Orchestrator.Actors.Cluster;
using Orchestrator.Actors.Job;
using Orchestrator.Cli.Terminal.Watch;
using Spectre.Console;

namespace Orchestrator.Tests.Watch;

/// <summary>A cluster's status as the watch shows it: nodes with health, devices and ranks; jobs; the end of a followed job.</summary>
public sealed class ClusterSnapshotsTests
{
    private const string NodeA = "akka.tcp://orchestrator@127.0.0.1:4053";
    private const string NodeB = "akka.tcp://orchestrator@127.0.0.1:4054";

    [Fact]
    public void Nodes_show_their_health_devices_and_the_ranks_they_hold()
    {
        var snapshot = new ClusterSnapshots("127.0.0.1:4053", null, 48).From(Status(Job("/runs/a", "training", 340)), WatchSamples.Noon);

        Assert.Equal(
            [
                new NodeSnapshot(NodeA, "up", ["cpu"], ["a#0"], null),
                new NodeSnapshot(NodeB, "unreachable", ["cpu", "cuda:0"], ["a#1"], null),
            ],
            snapshot.Nodes,
            new NodeComparer());
        Assert.Null(snapshot.ExitCode);
    }

    [Fact]
    public void The_rate_is_measured_from_steps_seen_across_polls_and_losses_are_kept_for_the_sparkline()
    {
        var snapshots = new ClusterSnapshots("127.0.0.1:4053", null, 48);

        snapshots.From(Status(Job("/runs/a", "training", 100, loss: 0.9)), WatchSamples.Noon);
        var later = snapshots.From(Status(Job("/runs/a", "training", 130, loss: 0.7)), WatchSamples.Noon.AddSeconds(2)).Jobs.Single();

        Assert.Equal(15, later.StepsPerSecond);
        Assert.Equal([0.9, 0.7], later.Losses);
        Assert.Equal(WatchSamples.Noon.AddSeconds(-30), later.CheckpointAt);
    }

    [Theory]
    [InlineData("completed", 0)]
    [InlineData("failed", 1)]
    [InlineData("stopped", 130)]
    public void A_followed_job_in_a_final_state_ends_the_watch_with_its_exit_code(string state, int exitCode)
    {
        var snapshot = new ClusterSnapshots("127.0.0.1:4053", "/runs/a", 48)
            .From(Status(Job("/runs/a", state, 1000), Job("/runs/b", "training", 5)), WatchSamples.Noon);

        Assert.Equal("/runs/a", snapshot.Jobs.Single().WorkDir);
        Assert.Equal(exitCode, snapshot.ExitCode);
    }

    [Fact]
    public void A_followed_job_the_coordinator_does_not_know_is_waited_for()
    {
        var snapshot = new ClusterSnapshots("127.0.0.1:4053", "/runs/c", 48).From(Status(Job("/runs/a", "training", 5)), WatchSamples.Noon);

        Assert.Empty(snapshot.Jobs);
        Assert.Equal("the coordinator does not know a job in /runs/c yet", snapshot.Notice);
        Assert.Null(snapshot.ExitCode);
    }

    [Fact]
    public void The_live_view_of_a_cluster_has_the_job_panel_and_the_node_table()
    {
        var snapshots = new ClusterSnapshots("127.0.0.1:4053", null, 48);
        snapshots.From(Status(Job("/runs/a", "training", 300, loss: 0.5)), WatchSamples.Noon.AddSeconds(-2));
        var snapshot = snapshots.From(Status(Job("/runs/a", "training", 340)), WatchSamples.Noon);

        var text = Render(snapshot, width: 110);

        Assert.Contains("mlp · /runs/a", text);
        Assert.Contains("training", text);
        Assert.Contains("step 340/1000  34%  eta 33 s", text);
        Assert.Contains("0.4123  █▁", text);
        Assert.Contains("20 steps/s (each of 2 ranks: they step together)", text);
        Assert.Contains("iter_300 (30 s ago)", text);
        Assert.Contains("#0 127.0.0.1:4053  #1 127.0.0.1:4054", text);
        Assert.Matches(@"127\.0\.0\.1:4053 +│ up +│ cpu +│ a#0", text);
        Assert.Matches(@"127\.0\.0\.1:4054 +│ unreachable +│ cpu,cuda:0 +│ a#1", text);
        Assert.DoesNotContain('\u001b', text);
    }

    /// <summary>What the live view draws, on a console of fixed width without colours or cursor movement.</summary>
    internal static string Render(WatchSnapshot snapshot, int width)
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = width;
        console.Profile.Capabilities.Unicode = true;
        console.Write(LiveWatchLayout.Render(snapshot));
        return output.ToString();
    }

    private static ClusterStatus Status(params JobLiveStatus[] jobs) => new(
        [new NodeStatus(NodeA, "up", ["cpu"], null), new NodeStatus(NodeB, "unreachable", ["cpu", "cuda:0"], null)],
        jobs);

    private static JobLiveStatus Job(string workDir, string state, long step, double loss = 0.4123) =>
        new("mlp", workDir, state, null, step, 1000, loss, 2, [NodeA, NodeB], "iter_300", 1, WatchSamples.Noon.AddSeconds(-30));

    // Records with array members compare arrays by reference; compare what they hold.
    private sealed class NodeComparer : IEqualityComparer<NodeSnapshot>
    {
        public bool Equals(NodeSnapshot? x, NodeSnapshot? y) =>
            x is not null && y is not null && x.Address == y.Address && x.Health == y.Health && x.Problem == y.Problem
            && x.Devices.SequenceEqual(y.Devices) && x.Ranks.SequenceEqual(y.Ranks);

        public int GetHashCode(NodeSnapshot node) => node.Address.GetHashCode(StringComparison.Ordinal);
    }
}
