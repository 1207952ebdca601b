namespace Orchestrator.Actors.Job.Restart;

/// <summary>Which ranks a restart recreates.</summary>
public enum RestartMode
{
    /// <summary>Only the failed rank; the others reload the same checkpoint in place (no step since it).</summary>
    One,

    /// <summary>Every rank, from the newest valid checkpoint (steps since it are redone).</summary>
    All,
}

/// <summary>The mode's spelling in the journal (<c>RestartScheduled.Mode</c>), kept so old journals replay.</summary>
public static class RestartModes
{
    public static string ToText(this RestartMode mode) => mode == RestartMode.All ? "all" : "one";

    public static RestartMode Parse(string text) => text switch
    {
        "all" => RestartMode.All,
        "one" => RestartMode.One,
        _ => throw new ArgumentException($"unknown restart mode '{text}'", nameof(text)),
    };
}
