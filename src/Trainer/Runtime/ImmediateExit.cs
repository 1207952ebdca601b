using System.Runtime.InteropServices;

namespace Orchestrator.Trainer.Runtime;

/// <summary>
/// Ends the process at once, without shutdown handlers or waiting for threads: for a stop that must stop
/// even when what would run on the way out (an actor system's shutdown, a thread stuck in native code) is
/// itself what hangs. Files already closed or flushed stay as they are; nothing else is written.
/// </summary>
public static partial class ImmediateExit
{
    public static void Now(int exitCode)
    {
        if (OperatingSystem.IsWindows())
        {
            Environment.Exit(exitCode);
        }
        Exit(exitCode);
    }

    [LibraryImport("libc", EntryPoint = "_exit")]
    private static partial void Exit(int status);
}
