using System.Globalization;
using System.Text;

namespace Orchestrator.Soak;

/// <summary>The counts of one configuration, or of all of them.</summary>
public sealed record SoakCounts(int Episodes, int Kills, int Resumes, int FailedResumes, int DigestMismatches, int LostCheckpoints)
{
    public static readonly SoakCounts Zero = new(0, 0, 0, 0, 0, 0);

    public bool Clean => FailedResumes == 0 && DigestMismatches == 0 && LostCheckpoints == 0;

    public static SoakCounts operator +(SoakCounts a, SoakCounts b) => new(
        a.Episodes + b.Episodes, a.Kills + b.Kills, a.Resumes + b.Resumes,
        a.FailedResumes + b.FailedResumes, a.DigestMismatches + b.DigestMismatches, a.LostCheckpoints + b.LostCheckpoints);
}

/// <summary>What a soak found: counts per configuration, every failure described, and how long it took.</summary>
public sealed record SoakResult(int Seed, IReadOnlyDictionary<SoakConfiguration, SoakCounts> PerConfiguration, IReadOnlyList<string> Failures, TimeSpan Elapsed, TimeSpan ReferenceTime)
{
    public SoakCounts Total => PerConfiguration.Values.Aggregate(SoakCounts.Zero, (a, b) => a + b);

    public bool Clean => Total.Clean && Failures.Count == 0;

    public string Table()
    {
        var text = new StringBuilder();
        void Row(string name, SoakCounts c) => text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"{name,-18} {c.Episodes,8} {c.Kills,6} {c.Resumes,8} {c.FailedResumes,15} {c.DigestMismatches,17} {c.LostCheckpoints,24}"));
        text.AppendLine($"{"configuration",-18} {"episodes",8} {"kills",6} {"resumes",8} {"failed resumes",15} {"digest mismatches",17} {"lost committed ckpts",24}");
        foreach (var (configuration, counts) in PerConfiguration)
        {
            Row(configuration.ToString(), counts);
        }
        Row("total", Total);
        var total = Total;
        var killing = Elapsed - ReferenceTime;
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"elapsed {Elapsed.TotalSeconds:0.0} s (reference runs {ReferenceTime.TotalSeconds:0.0} s; episodes {killing.TotalSeconds:0.0} s, {(total.Kills == 0 ? 0 : killing.TotalSeconds / total.Kills):0.00} s per kill), seed {Seed}"));
        text.Append(Clean ? "result: clean (0 failed resumes, 0 digest mismatches, 0 lost committed checkpoints)" : $"result: {Failures.Count} failure(s), listed above");
        return text.ToString();
    }
}
