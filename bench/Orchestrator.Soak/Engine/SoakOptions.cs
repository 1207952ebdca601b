namespace Orchestrator.Soak;

/// <summary>What a soak runs.</summary>
/// <param name="Kills">kill -9 to deliver in all, spread over the configurations in turn.</param>
/// <param name="Seed">Seeds every episode's seed, hence its kill count and kill moments.</param>
/// <param name="MinKillsPerEpisode">Each episode kills between this many and <paramref name="MaxKillsPerEpisode"/> times (drawn), then lets the run finish; fewer if a run ends before its kill moment.</param>
/// <param name="Scratch">Where the work dirs go; those of a failed episode are kept there.</param>
/// <param name="OrchestratorDll">The program under test, run as <c>dotnet orchestrator.dll</c>.</param>
/// <param name="Replay">Runs only this episode (configuration and episode seed), as a failure report names it.</param>
public sealed record SoakOptions(
    int Kills,
    int Seed,
    int MinKillsPerEpisode,
    int MaxKillsPerEpisode,
    RunShape Shape,
    IReadOnlyList<SoakConfiguration> Configurations,
    string Scratch,
    string OrchestratorDll,
    (SoakConfiguration Configuration, int EpisodeSeed)? Replay = null);
