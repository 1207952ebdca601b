using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Cluster;

/// <summary>
/// Three real node processes on 127.0.0.1, a job with one rank per node, and machines dying (SIGKILL): the
/// job shrinks, goes on from the latest checkpoint, grows back when a node returns, and survives the loss of
/// the node that hosts its coordinator.
/// </summary>
public sealed class NodeFailureTests : IDisposable
{
    private readonly LocalCluster _cluster = new();

    public void Dispose() => _cluster.Dispose();

    private (NodeProcess A, NodeProcess B, NodeProcess C) ThreeNodes(bool twoSeeds)
    {
        var (pa, pb, pc) = (NodeProcess.FreePort(), NodeProcess.FreePort(), NodeProcess.FreePort());
        var seeds = twoSeeds ? $"127.0.0.1:{pa},127.0.0.1:{pb}" : $"127.0.0.1:{pa}";
        return (_cluster.Node(pa, seeds), _cluster.Node(pb, seeds), _cluster.Node(pc, seeds));
    }

    private static string[] Submit(NodeProcess via, string workDir, int steps, params string[] more) =>
        ["submit", "--cluster", via.HostPort, "--job", "mlp", "--work-dir", workDir, "--steps", steps.ToString(), "--checkpoint-every", "40",
         "--batch-size", "48", "--samples", "960", "--threads", "1", "--min-ranks", "1", "--max-ranks", "3", "--wait", .. more];

    // The coordinator's node prints the joins; a returned node that ends, or never joins, says why only in its own output.
    private static async Task WhileRunning(NodeProcess node, Task wait)
    {
        if (await Task.WhenAny(wait, node.ExitedAsync()) != wait)
        {
            throw new Xunit.Sdk.XunitException($"node {node.HostPort} ended; its output:\n{node.Text}");
        }
        try
        {
            await wait;
        }
        catch (Xunit.Sdk.XunitException e)
        {
            throw new Xunit.Sdk.XunitException($"{e.Message}\n--- node {node.HostPort}'s output:\n{node.Text}");
        }
    }

    [Fact]
    public async Task A_killed_worker_shrinks_the_job_from_the_latest_checkpoint_and_a_returning_node_grows_it_back()
    {
        var (a, b, c) = ThreeNodes(twoSeeds: false);
        await a.WaitForAllAsync(new[] { a, b, c }.Select(n => $"node {n.HostPort} joined"));
        var workDir = System.IO.Path.Combine(_cluster.Shared, "job");
        using var follower = _cluster.Client(Submit(a, workDir, 1_000_000));
        await a.WaitForLineAsync(line => line.Contains("checkpoint iter_80", StringComparison.Ordinal));

        c.KillHard();
        await a.WaitForLineAsync(line => line.Contains($"{c.HostPort} holding rank", StringComparison.Ordinal) && line.Contains("restarting all ranks from iter_", StringComparison.Ordinal));
        await a.WaitForLineAsync(line => line.Contains("checkpoint iter_", StringComparison.Ordinal)); // training goes on with two ranks
        var returned = _cluster.Node(c.Port, a.HostPort);
        await WhileRunning(returned, a.WaitForLineAsync(line => line.Contains("resizing from 2 to 3 rank(s)", StringComparison.Ordinal)));
        await a.WaitForLineAsync(line => line.Contains("(schedule)", StringComparison.Ordinal)); // and with three again

        var stop = _cluster.Run("stop", "--cluster", b.HostPort, "--work-dir", workDir);
        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.Equal(130, follower.WaitForExit(TimeSpan.FromMinutes(2)));

        var history = _cluster.History(workDir);
        Assert.True(history.ExitCode == 0, history.ToString());
        var lines = history.Output.Split('\n');
        Assert.Contains(lines, l => l.Contains("ranks started   generation 1, 3 rank(s)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains($"rank failed", StringComparison.Ordinal) && l.Contains($"{c.HostPort} holding rank", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("restart         all ranks from iter_", StringComparison.Ordinal) && l.Contains("step(s) redone", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("2 rank(s), from iter_", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("world resized   2 -> 3 rank(s)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("stopped", StringComparison.Ordinal));
        Assert.Equal(0, CliProcess.Run(["checkpoints", "verify", System.IO.Path.Combine(workDir, "checkpoints")]).ExitCode);
        GC.KeepAlive(returned);
    }

    [Fact]
    public async Task Killing_the_node_that_hosts_the_coordinator_moves_it_and_the_job_completes_from_the_journal()
    {
        var (a, b, c) = ThreeNodes(twoSeeds: true);
        await a.WaitForAllAsync(new[] { a, b, c }.Select(n => $"node {n.HostPort} joined"));
        var workDir = System.IO.Path.Combine(_cluster.Shared, "job");
        using var follower = _cluster.Client(Submit(b, workDir, 1200));
        await a.WaitForLineAsync(line => line.Contains("checkpoint iter_40", StringComparison.Ordinal));

        a.KillHard();
        var continued = await Task.WhenAny(
            b.WaitForLineAsync(line => line.Contains("continuing job mlp", StringComparison.Ordinal)),
            c.WaitForLineAsync(line => line.Contains("continuing job mlp", StringComparison.Ordinal)));
        await continued;

        Assert.Equal(0, follower.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.Contains("completed: step 1200/1200", follower.Text);
        var history = _cluster.History(workDir).Output.Split('\n');
        Assert.Contains(history, l => l.Contains("2 rank(s), from iter_", StringComparison.Ordinal));
        Assert.Contains(history, l => l.Contains("completed       at step 1200", StringComparison.Ordinal));
    }
}
