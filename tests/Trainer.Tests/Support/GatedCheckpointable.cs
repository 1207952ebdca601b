using System.Text.Json.Nodes;
using Orchestrator.Trainer.Checkpointing;

namespace Orchestrator.Trainer.Tests.Support;

/// <summary>
/// A component whose background part waits at a gate: registered before the model, it holds a snapshot's
/// copy pending for as long as a test needs, so what runs meanwhile can be observed.
/// </summary>
public sealed class GatedCheckpointable : IDeferredCheckpointable, IDisposable
{
    private readonly ManualResetEventSlim _open = new(true);
    private readonly ManualResetEventSlim _reached = new(false);

    /// <summary>The next captures' copies stop here until <see cref="Open"/>.</summary>
    public void Close()
    {
        _reached.Reset();
        _open.Reset();
    }

    public void Open() => _open.Set();

    /// <summary>Blocks until a copy is waiting at the closed gate.</summary>
    public void WaitUntilReached() => Assert.True(_reached.Wait(TimeSpan.FromSeconds(30)), "the background copy never reached the gate");

    public ComponentState Capture() => ComponentState.FromJson(new JsonObject { ["gated"] = true });

    public Func<ComponentState> Capture(SnapshotBuffers buffers) => () =>
    {
        _reached.Set();
        _open.Wait();
        return Capture();
    };

    public IReadOnlyList<string> Restore(ComponentState state) => [];

    public void Dispose()
    {
        _open.Dispose();
        _reached.Dispose();
    }
}
