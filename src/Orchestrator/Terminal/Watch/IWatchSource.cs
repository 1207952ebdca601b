namespace Orchestrator.Cli.Terminal.Watch;

/// <summary>Where the watch gets its snapshots: a work dir's journal, or a cluster's coordinator.</summary>
internal interface IWatchSource : IDisposable
{
    WatchSnapshot Poll();
}
