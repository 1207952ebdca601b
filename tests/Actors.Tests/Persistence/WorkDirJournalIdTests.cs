using Orchestrator.Actors.Job;
using Orchestrator.Actors.Persistence;

namespace Orchestrator.Actors.Tests.Persistence;

public sealed class WorkDirJournalIdTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_new_work_dir_gets_a_random_id_that_moves_with_it()
    {
        var dir = Directory.CreateDirectory(_temp.Sub("a")).FullName;
        var other = Directory.CreateDirectory(_temp.Sub("b")).FullName;

        var id = WorkDirJournalId.Establish(dir, Path.Combine(dir, "checkpoints"));
        Directory.Move(dir, _temp.Sub("moved"));

        Assert.Matches("^job-[0-9a-f]{16}$", id);
        Assert.Equal(id, JobSupervisor.PersistenceIdFor(_temp.Sub("moved")));
        Assert.NotEqual(id, WorkDirJournalId.Establish(other, Path.Combine(other, "checkpoints")));
    }

    [Fact]
    public void A_work_dir_from_before_ids_keeps_the_id_its_path_gave_it()
    {
        var dir = Directory.CreateDirectory(_temp.Sub("old")).FullName;
        File.WriteAllText(Path.Combine(dir, "journal.db"), "");
        var legacy = WorkDirJournalId.Of(dir); // no id file: read under the path-derived id

        Assert.Equal(legacy, WorkDirJournalId.Establish(dir, Path.Combine(dir, "checkpoints")));
        Assert.Equal($"{legacy}\n", File.ReadAllText(Path.Combine(dir, WorkDirJournalId.FileName)));
    }

    [Fact]
    public void A_damaged_id_file_is_one_clear_error()
    {
        var dir = Directory.CreateDirectory(_temp.Sub("damaged")).FullName;
        File.WriteAllText(Path.Combine(dir, WorkDirJournalId.FileName), "job-../../x\n");

        var error = Assert.Throws<ArgumentException>(() => WorkDirJournalId.Of(dir));
        Assert.Contains("does not hold a job id", error.Message);
    }
}
