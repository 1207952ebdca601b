namespace Orchestrator.Trainer.Tests.Support;

/// <summary>For tests that something waits at a snapshot's fence.</summary>
internal static class Fence
{
    // Long enough for a step that does not wait at the fence to have happened: a missing fence fails the
    // comparison with the values before it; the wait itself is only the chance given to it.
    private static readonly TimeSpan Chance = TimeSpan.FromMilliseconds(300);

    /// <summary>Whether <paramref name="work"/> finished within the chance it was given to pass the fence.</summary>
    public static async Task<bool> Passed(Task work) => await Task.WhenAny(work, Task.Delay(Chance)) == work;
}
