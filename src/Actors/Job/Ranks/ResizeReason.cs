namespace Orchestrator.Actors.Job.Ranks;

/// <summary>Why a job's world changes size at a checkpoint.</summary>
public enum ResizeReason
{
    /// <summary>A node holding ranks is being drained: its work moves off.</summary>
    NodeDrained,

    /// <summary>Nodes joined with devices for a bigger world.</summary>
    NodesJoined,
}

/// <summary>The reason's spelling in the journal (<c>WorldResized.Reason</c>), kept so old journals replay.</summary>
public static class ResizeReasons
{
    public static string ToText(this ResizeReason reason) => reason == ResizeReason.NodeDrained ? "node drained" : "nodes joined";
}
