using System.Threading.Channels;
using Orchestrator.Actors.Job.Checkpoints;

namespace Orchestrator.Actors.Tests.Support;

/// <summary>
/// A <see cref="DiscoveryRunner"/> that holds every checkpoint search the supervisor starts until the test
/// lets it run, so a test can send what it likes while the supervisor is discovering, with no race.
/// </summary>
public sealed class HeldDiscovery
{
    private readonly Channel<HeldSearch> _started = Channel.CreateUnbounded<HeldSearch>();

    public HeldDiscovery() => Runner = (find, cancel) =>
    {
        var search = new HeldSearch(find, cancel);
        _started.Writer.TryWrite(search);
        return search.Answer;
    };

    /// <summary>The seam to hand to the supervisor.</summary>
    public DiscoveryRunner Runner { get; }

    /// <summary>The next search the supervisor started (it is discovering from then until the search is released).</summary>
    public async Task<HeldSearch> StartedAsync()
    {
        using var timeout = new CancellationTokenSource(ScriptedJob.Wait);
        return await _started.Reader.ReadAsync(timeout.Token);
    }
}

/// <summary>One search the supervisor started, held.</summary>
public sealed class HeldSearch(Func<object?> find, CancellationToken cancel)
{
    private readonly TaskCompletionSource<object?> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<object?> Answer => _answer.Task;

    /// <summary>Whether the supervisor gave up on this search (it will drop the answer).</summary>
    public bool Cancelled => cancel.IsCancellationRequested;

    /// <summary>Runs the search (here, on the test's thread) and hands its answer to the supervisor.</summary>
    public void Release()
    {
        try
        {
            _answer.SetResult(find());
        }
        catch (Exception e)
        {
            _answer.SetException(e);
        }
    }
}
