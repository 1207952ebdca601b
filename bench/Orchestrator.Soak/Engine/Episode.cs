using System.Globalization;

namespace Orchestrator.Soak;

/// <summary>What one episode did and found, for its progress line and the tally.</summary>
internal sealed class Episode(SoakConfiguration configuration, int seed, string dir)
{
    private readonly List<TimeSpan> _killMoments = [];
    private int _resumes;
    private int _failedResumes;
    private int _mismatches;
    private int _lost;
    private string _ending = "";

    public SoakConfiguration Configuration { get; } = configuration;

    public int Seed { get; } = seed;

    public string Dir { get; } = dir;

    public List<string> Failures { get; } = [];

    public int Kills => _killMoments.Count;

    public SoakCounts Counts => new(1, Kills, _resumes, _failedResumes, _mismatches, _lost);

    public string Summary => string.Create(CultureInfo.InvariantCulture,
        $"{Kills} kill(s) at {(Kills == 0 ? "-" : string.Join(", ", _killMoments.Select(m => $"{m.TotalSeconds:0.00} s")))}, {_resumes} resume(s); {_ending}");

    public void Killed(TimeSpan after) => _killMoments.Add(after);

    public void Resumed() => _resumes++;

    public void FailedResume(string why)
    {
        _failedResumes++;
        Failures.Add(why);
        _ending = "FAILED RESUME";
    }

    public void DigestMismatch(string why)
    {
        _mismatches++;
        Failures.Add(why);
        _ending = "DIGEST MISMATCH";
    }

    public void LostCheckpoint(string why)
    {
        _lost++;
        Failures.Add(why);
    }

    public void Matched(bool alreadyComplete) =>
        _ending = (_lost > 0 ? "LOST CHECKPOINTS, " : "") + (alreadyComplete ? "already complete, weights match" : "weights match");
}
