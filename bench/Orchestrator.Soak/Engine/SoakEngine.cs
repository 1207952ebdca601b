using System.Diagnostics;
using System.Globalization;

namespace Orchestrator.Soak;

/// <summary>
/// The kill -9 soak. Per job and rank count, an uninterrupted run gives the reference <c>weights-sha256</c>
/// and the run's length. Then episodes, the configurations in turn: in a fresh work dir, <c>train</c> is
/// killed at a moment drawn uniformly over that length (start-up, journal recovery, steps and saves alike),
/// rerun with the same command line, killed again up to the episode's count, and finally left to finish.
/// Before each kill the committed checkpoints are noted; after it each must still be listed and verify, and
/// the rerun must resume from the newest one; the finished run must end on the reference weights.
/// </summary>
public sealed class SoakEngine(SoakOptions options, Action<string> log)
{
    private readonly Dictionary<SoakConfiguration, SoakCounts> _counts = [];
    private readonly List<string> _failures = [];
    private readonly Dictionary<(string, int), Reference> _references = [];

    public SoakResult Run()
    {
        var clock = Stopwatch.StartNew();
        var configurations = options.Replay is { } replay ? [replay.Configuration] : options.Configurations;
        foreach (var configuration in configurations)
        {
            _counts[configuration] = SoakCounts.Zero;
        }
        foreach (var configuration in configurations.DistinctBy(c => c.ReferenceKey))
        {
            _references[configuration.ReferenceKey] = RunReference(configuration);
        }
        var referenceTime = clock.Elapsed;
        if (options.Replay is { } one)
        {
            RunEpisode(1, one.Configuration, one.EpisodeSeed, int.MaxValue);
        }
        else
        {
            var seeds = new Random(options.Seed);
            var kills = 0;
            for (var episode = 1; kills < options.Kills; episode++)
            {
                var configuration = configurations[(episode - 1) % configurations.Count];
                kills += RunEpisode(episode, configuration, seeds.Next(), options.Kills - kills);
            }
        }
        return new SoakResult(options.Seed, _counts, _failures, clock.Elapsed, referenceTime);
    }

    private Reference RunReference(SoakConfiguration configuration)
    {
        var dir = Path.Combine(options.Scratch, $"reference-{configuration.Job}-r{configuration.Ranks}");
        var clock = Stopwatch.StartNew();
        var result = OrchestratorRun.Run(options.OrchestratorDll, configuration.TrainArguments(dir, options.Shape));
        var length = clock.Elapsed;
        if (result.ExitCode != 0 || result.WeightsSha256 is not { } digest)
        {
            throw new InvalidOperationException($"the uninterrupted reference run of {configuration.Job} R={configuration.Ranks} failed (exit {result.ExitCode}): {result.Tail}");
        }
        log(string.Create(CultureInfo.InvariantCulture, $"reference {configuration.Job} R={configuration.Ranks}: weights-sha256 {digest[..16]}..., {length.TotalSeconds:0.0} s"));
        Directory.Delete(dir, recursive: true);
        return new Reference(digest, length);
    }

    /// <summary>One episode; returns the kills it delivered (at most <paramref name="killBudget"/>).</summary>
    private int RunEpisode(int number, SoakConfiguration configuration, int episodeSeed, int killBudget)
    {
        var reference = _references[configuration.ReferenceKey];
        var random = new Random(episodeSeed);
        var planned = Math.Min(killBudget, random.Next(options.MinKillsPerEpisode, options.MaxKillsPerEpisode + 1));
        var dir = Path.Combine(options.Scratch, $"episode-{number}-{configuration.Job}-r{configuration.Ranks}-{configuration.Save.ToString().ToLowerInvariant()}");
        var episode = new Episode(configuration, episodeSeed, dir);
        var clock = Stopwatch.StartNew();
        string? mustResumeFrom = null; // null before the first kill: the first run starts fresh
        while (true)
        {
            // Drawn whether or not it is used, so an episode's moments depend on its seed alone.
            var delay = reference.Length * random.NextDouble();
            using var run = OrchestratorRun.Start(options.OrchestratorDll, configuration.TrainArguments(dir, options.Shape), configuration.Environment);
            var rerun = mustResumeFrom is not null;
            if (episode.Kills < planned && !run.ExitsWithin(delay))
            {
                var committed = CommittedCheckpoints.Before(dir);
                run.KillHard();
                var killed = run.WaitForExit();
                if (killed.ExitCode == RunResult.Killed)
                {
                    episode.Killed(delay);
                    if (rerun)
                    {
                        CheckResume(episode, killed, mustResumeFrom!);
                    }
                    mustResumeFrom = CheckCommitted(episode, committed);
                    continue;
                }
                Finish(episode, killed, rerun ? mustResumeFrom : null, reference); // it ended just before the kill
                break;
            }
            Finish(episode, run.WaitForExit(), rerun ? mustResumeFrom : null, reference);
            break;
        }
        _counts[configuration] += episode.Counts;
        log(string.Create(CultureInfo.InvariantCulture,
            $"episode {number} ({configuration}, episode seed {episodeSeed}): {episode.Summary} in {clock.Elapsed.TotalSeconds:0.0} s"));
        if (episode.Failures.Count == 0)
        {
            Directory.Delete(dir, recursive: true);
        }
        else
        {
            foreach (var failure in episode.Failures)
            {
                var described = $"FAILED episode {number} ({configuration}, soak seed {options.Seed}, episode seed {episodeSeed}; replay with --replay {configuration.Key}:{episodeSeed}; work dir kept: {dir}): {failure}";
                _failures.Add(described);
                log(described);
            }
        }
        return episode.Kills;
    }

    /// <summary>Every checkpoint committed before the kill is still listed and verifies; returns the one a rerun must resume from ("" for none).</summary>
    private string CheckCommitted(Episode episode, IReadOnlySet<string> committedBefore)
    {
        var listing = CommittedCheckpoints.After(options.OrchestratorDll, episode.Dir);
        if (listing.Failure is { } failure)
        {
            episode.LostCheckpoint($"after kill {episode.Kills}: {failure}");
        }
        foreach (var name in committedBefore.Order(StringComparer.Ordinal))
        {
            if (listing.Lost(name) is { } lost)
            {
                episode.LostCheckpoint($"after kill {episode.Kills}: {lost}");
            }
        }
        // Committed between the look and the kill, and not intact: as lost as the ones above.
        foreach (var (name, status) in listing.Entries.Where(e => !committedBefore.Contains(e.Key) && e.Value != "ok"))
        {
            episode.LostCheckpoint($"after kill {episode.Kills}: {name} is committed and does not verify ({status})");
        }
        return listing.NewestValid ?? "";
    }

    /// <summary>A rerun after a kill must start from the newest checkpoint that verified after the kill (fresh if there was none).</summary>
    private static void CheckResume(Episode episode, RunResult rerun, string mustResumeFrom)
    {
        episode.Resumed();
        if (rerun.ResumedFrom is { } from && from != mustResumeFrom)
        {
            var expected = mustResumeFrom == "" ? "a fresh start (no checkpoint was committed)" : mustResumeFrom;
            var actual = from == "" ? "a fresh start" : from;
            episode.FailedResume($"the rerun after kill {episode.Kills} started from {actual}, not {expected}");
        }
    }

    /// <summary>The run that was not killed: it must end with exit 0 on the reference weights.</summary>
    private static void Finish(Episode episode, RunResult finished, string? mustResumeFrom, Reference reference)
    {
        if (mustResumeFrom is not null)
        {
            CheckResume(episode, finished, mustResumeFrom);
        }
        if (finished.Hung || finished.ExitCode != 0)
        {
            var what = finished.Hung ? $"did not finish within {OrchestratorRun.Limit.TotalMinutes:0} minutes" : $"exited {finished.ExitCode}";
            episode.FailedResume($"the {(mustResumeFrom is null ? "run (never killed)" : $"rerun after kill {episode.Kills}")} {what}: {finished.Tail}");
            return;
        }
        if (finished.WeightsSha256 != reference.WeightsSha256)
        {
            episode.DigestMismatch($"finished with weights-sha256 {finished.WeightsSha256 ?? "(none printed)"}, the uninterrupted run {reference.WeightsSha256}");
            return;
        }
        episode.Matched(finished.AlreadyComplete);
    }

    private sealed record Reference(string WeightsSha256, TimeSpan Length);
}
