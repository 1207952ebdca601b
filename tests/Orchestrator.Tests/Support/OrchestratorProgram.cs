namespace Orchestrator.Tests.Support;

/// <summary>
/// The <c>orchestrator</c> program the process tests start: this build's, published with ReadyToRun into
/// <c>orchestrator-program/</c> beside the tests by the test project's build (see its csproj).
/// </summary>
public static class OrchestratorProgram
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "orchestrator-program");

    /// <summary>The program's dll, run as <c>dotnet DLL ARGS</c>.</summary>
    public static string Dll
    {
        get
        {
            var dll = Path.Combine(Folder, "orchestrator.dll");
            return File.Exists(dll) ? dll
                : throw new InvalidOperationException($"{dll} is missing: build tests/Orchestrator.Tests (its build publishes the program there)");
        }
    }
}
