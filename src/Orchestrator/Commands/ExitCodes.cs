namespace Orchestrator.Cli.Commands;

internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int BadInput = 2;

    /// <summary>Stopped by SIGINT/SIGTERM after saving a checkpoint (128 + SIGINT, the shell convention).</summary>
    public const int Interrupted = 130;
}
