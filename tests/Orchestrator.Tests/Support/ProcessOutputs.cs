namespace Orchestrator.Tests.Support;

/// <summary>
/// A cluster test's failure says what every process printed: the line one process missed is often explained
/// by another's (a job that ended on the node that left, a coordinator that never moved).
/// </summary>
public static class ProcessOutputs
{
    /// <summary>Awaits <paramref name="wait"/>; if it fails, fails again with every process's output.</summary>
    public static async Task WithOutputs(Task wait, params (string Name, NodeProcess Process)[] processes)
    {
        try
        {
            await wait;
        }
        catch (Xunit.Sdk.XunitException e)
        {
            throw new Xunit.Sdk.XunitException(e.Message + Of(processes));
        }
    }

    /// <summary>Every process's output, each under its name, for an assertion's message.</summary>
    public static string Of(params (string Name, NodeProcess Process)[] processes) =>
        string.Concat(processes.Select(p => $"\n--- {p.Name}'s output:\n{p.Process.Text}"));
}
