using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Hosting;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Orchestrator.Actors.Persistence;

namespace Orchestrator.Actors.Tests.Persistence;

/// <summary>
/// A work dir's journal outlives the build that wrote it: every later build must replay it. The journal stores
/// each event as JSON naming its .NET type (namespace, name and assembly) and every property, so renaming,
/// moving or reshaping an event, <c>JobState</c> or anything inside them (JobSpec and its parts, JobStatus's
/// numbering) changes what old journals hold. journal-contract.txt pins that, as wire-contract.txt pins the wire.
/// </summary>
public sealed class JournalContractTests : TestKit
{
    private readonly TempDirectory _temp;

    public JournalContractTests()
        : this(new TempDirectory())
    {
    }

    private JournalContractTests(TempDirectory temp)
        : base(JournalJson.With(BootstrapSetup.Create().WithConfig(JournalSettings.SqliteIn(temp.Path).ToConfig().WithFallback(OrchestratorSystem.Reference))))
    {
        _temp = temp;
    }

    [Fact]
    public async Task Events_and_snapshots_are_stored_as_journal_contract_txt_says()
    {
        var now = await JournalContract.DescribeAsync(Sys, JournalSettings.SqliteIn(_temp.Path).SqliteFile!);
        var written = Written();

        if (now != written)
        {
            var file = Path.Combine(Path.GetTempPath(), $"journal-contract-{Environment.ProcessId}.txt");
            File.WriteAllText(file, now);
            var (was, isNow) = (written.Split('\n'), now.Split('\n'));
            var line = Enumerable.Range(0, Math.Max(was.Length, isNow.Length)).First(i => was.ElementAtOrDefault(i) != isNow.ElementAtOrDefault(i));
            Assert.Fail(
                $"the journal's format changed (line {line + 1}: '{was.ElementAtOrDefault(line)}' is now '{isNow.ElementAtOrDefault(line)}'; the new one is in {file}). " +
                "Journals written by earlier builds must still replay: keep the old type names and shapes, or give the events explicit manifests " +
                "and a migration that reads the old rows (JournalFromPreviousBuildTests must still pass); only then copy the file to " +
                "tests/Actors.Tests/Persistence/journal-contract.txt");
        }
    }

    [Fact]
    public void A_value_equal_to_its_types_default_comes_back_as_submitted_not_as_the_records_default()
    {
        // Akka's JSON writer left out 0 and false, and the reader filled in the record's own default: a job
        // submitted with --max-restarts 0, --non-strict or --no-save-last came back with 5, strict and save-last.
        var spec = new JobSpec
        {
            Job = "mlp",
            WorkDir = _temp.Path,
            Restarts = new RestartPolicy { MaxRestarts = 0 },
            ModelLoad = ModelLoadOptions.Default with { Strict = false },
            Schedule = new CheckpointSchedule(EveryIterations: 10, SaveLast: false),
        };
        var serializer = Sys.Serialization.FindSerializerFor(spec);

        var back = (JobSpec)serializer.FromBinary(serializer.ToBinary(spec), typeof(JobSpec));

        Assert.Equal(0, back.Restarts.MaxRestarts);
        Assert.False(back.ModelLoad.Strict);
        Assert.False(back.Schedule.SaveLast);
    }

    private static string Written()
    {
        using var stream = typeof(JournalContractTests).Assembly.GetManifestResourceStream("journal-contract.txt")
            ?? throw new InvalidOperationException("journal-contract.txt is not embedded in the test assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            _temp.Dispose();
        }
    }
}
