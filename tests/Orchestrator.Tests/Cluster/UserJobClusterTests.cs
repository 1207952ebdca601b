using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Cluster;

/// <summary>
/// A user's job library on a cluster: its dll lies on the shared volume; a node that cannot load it gets no
/// ranks and says why, and the job goes on with the others when a worker is killed, to its end.
/// </summary>
public sealed class UserJobClusterTests : IDisposable
{
    private readonly LocalCluster _cluster = new();

    public void Dispose() => _cluster.Dispose();

    [Fact]
    public async Task A_users_job_survives_a_killed_worker_and_a_node_without_its_code_gets_no_ranks()
    {
        var jobs = System.IO.Path.Combine(_cluster.Shared, "jobs");
        var dll = SampleJobsLibrary.CopyTo(jobs);
        var (pa, pb, pc) = (NodeProcess.FreePort(), NodeProcess.FreePort(), NodeProcess.FreePort());
        var a = _cluster.Node(pa, $"127.0.0.1:{pa}");
        var b = _cluster.Node(pb, $"127.0.0.1:{pa}");
        var blind = _cluster.Node(pc, $"127.0.0.1:{pa}", hidden: jobs);
        await a.WaitForAllAsync(new[] { a, b, blind }.Select(n => $"node {n.HostPort} joined"));
        var workDir = System.IO.Path.Combine(_cluster.Shared, "job");

        using var follower = _cluster.Client(
            "submit", "--cluster", a.HostPort, "--job-assembly", dll, "--job", "autoencoder", "--job-arg", "width=6", "--work-dir", workDir,
            "--steps", "3000", "--checkpoint-every", "40", "--threads", "1", "--min-ranks", "1", "--max-ranks", "3", "--wait");
        await blind.WaitForLineAsync(line => line.Contains("warning: job autoencoder will not place ranks on this node: cannot load the job's code: job assembly", StringComparison.Ordinal));
        await a.WaitForLineAsync(line => line.Contains("checkpoint iter_40", StringComparison.Ordinal));
        b.KillHard();

        Assert.Equal(0, follower.WaitForExit(TimeSpan.FromMinutes(3)));
        Assert.Contains("completed: step 3000/3000", follower.Text);
        var history = _cluster.History(workDir);
        var lines = history.Output.Split('\n');
        Assert.Contains(lines, l => l.Contains($"submitted       job autoencoder from {dll} (sha256 ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("ranks started   generation 1, 2 rank(s)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("rank failed", StringComparison.Ordinal) && l.Contains($"{b.HostPort} holding rank", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("1 rank(s), from iter_", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("completed       at step 3000", StringComparison.Ordinal));
    }

    [Fact]
    public async Task When_the_coordinators_node_dies_the_next_coordinator_loads_the_users_job_from_the_journal()
    {
        var dll = SampleJobsLibrary.CopyTo(System.IO.Path.Combine(_cluster.Shared, "jobs"));
        var (pa, pb, pc) = (NodeProcess.FreePort(), NodeProcess.FreePort(), NodeProcess.FreePort());
        var seeds = $"127.0.0.1:{pa},127.0.0.1:{pb}";
        var (a, b, c) = (_cluster.Node(pa, seeds), _cluster.Node(pb, seeds), _cluster.Node(pc, seeds));
        await a.WaitForAllAsync(new[] { a, b, c }.Select(n => $"node {n.HostPort} joined"));
        var workDir = System.IO.Path.Combine(_cluster.Shared, "job");
        using var follower = _cluster.Client(
            "submit", "--cluster", b.HostPort, "--job-assembly", dll, "--job", "autoencoder", "--job-arg", "width=6", "--work-dir", workDir,
            "--steps", "3000", "--checkpoint-every", "40", "--threads", "1", "--min-ranks", "1", "--max-ranks", "3", "--wait");
        await a.WaitForLineAsync(line => line.Contains("checkpoint iter_40", StringComparison.Ordinal));

        a.KillHard();
        await await Task.WhenAny(
            b.WaitForLineAsync(line => line.Contains("continuing job autoencoder", StringComparison.Ordinal)),
            c.WaitForLineAsync(line => line.Contains("continuing job autoencoder", StringComparison.Ordinal)));

        var exit = follower.WaitForExit(TimeSpan.FromMinutes(3));
        Assert.True(exit == 0, $"submit --wait exited {exit}:\n{follower.Text}\n--- b:\n{b.Text}\n--- c:\n{c.Text}");
        Assert.Contains("completed: step 3000/3000", follower.Text);
        var history = _cluster.History(workDir).Output;
        Assert.Contains("args width=6", history);
        Assert.Contains("completed       at step 3000", history);
    }
}
