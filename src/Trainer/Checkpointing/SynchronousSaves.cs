namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// Makes every save of a <c>train</c> run write on the training thread, as the final and interrupt saves
/// always do. Scheduled saves are otherwise written in the background, and <c>train</c> has no flag for it:
/// the kill -9 soak (bench/Orchestrator.Soak) sets <c>ORCHESTRATOR_SYNC_SAVES=1</c> to kill runs inside
/// both write paths. Unset, nothing changes.
/// </summary>
public static class SynchronousSaves
{
    public const string EnvironmentVariable = "ORCHESTRATOR_SYNC_SAVES";

    public static bool Forced { get; } = Environment.GetEnvironmentVariable(EnvironmentVariable) == "1";
}
