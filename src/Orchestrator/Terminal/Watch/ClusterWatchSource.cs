using System.Diagnostics;
using Orchestrator.Actors.Cluster;
using Orchestrator.Cli.Commands.Cluster;

namespace Orchestrator.Cli.Terminal.Watch;

/// <summary>
/// Snapshots of a cluster, asked from its coordinator on every poll through one client connection. A cluster
/// that never answers is an error at once (a wrong address); one that stops answering is waited for, as the
/// coordinator moves to another node, for up to <see cref="GiveUpAfter"/>.
/// </summary>
internal sealed class ClusterWatchSource(string hostPort, string? secret, string? followedWorkDir, int keepLosses) : IWatchSource
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromMinutes(3);

    private readonly ClusterClient _client = new(hostPort, secret);
    private readonly ClusterSnapshots _snapshots = new(hostPort, followedWorkDir, keepLosses);
    private readonly Stopwatch _sinceAnswer = new();
    private WatchSnapshot? _last;

    public WatchSnapshot Poll()
    {
        ClusterStatus status;
        try
        {
            status = _client.Status(AskTimeout);
        }
        catch (ClusterUnreachableException e) when (_last is not null && _sinceAnswer.Elapsed < GiveUpAfter)
        {
            return ClusterSnapshots.Unanswered(_last, hostPort, e.Message.Split(" (")[0], DateTimeOffset.Now);
        }
        _sinceAnswer.Restart();
        return _last = _snapshots.From(status, DateTimeOffset.Now);
    }

    public void Dispose() => _client.Dispose();
}
