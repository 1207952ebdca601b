using Akka.Configuration;

namespace Orchestrator.Actors.Gradients;

/// <summary>Which collective averages the gradients of ranks on several nodes (<c>orchestrator.cluster.gradient-collective</c>).</summary>
internal static class RingSettings
{
    public const string Key = "orchestrator.cluster.gradient-collective";

    /// <summary>ring (the default): among the ranks themselves; hub: through the supervisor's node.</summary>
    public static bool IsRing(Config config) => !string.Equals(config.GetString(Key, "ring"), "hub", StringComparison.OrdinalIgnoreCase);
}
