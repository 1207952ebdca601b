using Orchestrator.Cli.Plots;
using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Plots;

/// <summary>Bad input to <c>orchestrator plot</c>: one line naming the problem and the fix, exit code 2, no image.</summary>
[Collection(FaultedRunCollection.Name)]
public sealed class PlotBadInputTests(FaultedRun run) : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Plot_without_a_work_dir_is_refused() =>
        AssertRefused(["plot"], "error: --work-dir is required (orchestrator plot --work-dir DIR)");

    [Fact]
    public void Plot_of_a_work_dir_that_does_not_exist_is_refused() =>
        AssertRefused(["plot", "--work-dir", _temp.Sub("nothing")], $"error: work dir {_temp.Sub("nothing")} does not exist (give the --work-dir of a 'train' run)");

    [Fact]
    public void Plot_of_a_work_dir_without_TensorBoard_files_is_refused() =>
        AssertRefused(["plot", "--work-dir", _temp.Path],
            $"error: no TensorBoard files in {Path.Combine(_temp.Path, "tensorboard")} (train writes them; was this work dir trained by an older version?)");

    [Fact]
    public void Plot_of_a_work_dir_without_a_journal_is_refused()
    {
        var dir = _temp.Sub("no-journal");
        CopyFolder(Path.Combine(run.WorkDir, "tensorboard"), Path.Combine(dir, "tensorboard"));

        var result = Refused(["plot", "--work-dir", dir]);

        Assert.StartsWith($"error: no job journal at {Path.Combine(dir, "journal.db")} (run 'orchestrator train --work-dir {dir} ...' first", result.Error);
        Assert.False(File.Exists(Path.Combine(dir, "plot.png")));
    }

    [Fact]
    public void Plot_to_a_file_that_is_neither_png_nor_svg_is_refused() =>
        AssertRefused(["plot", "--work-dir", run.WorkDir, "--out", _temp.Sub("plot.jpg")],
            $"error: --out {_temp.Sub("plot.jpg")}: unknown image type '.jpg' (use .png or .svg)");

    [Fact]
    public void Plot_with_a_font_variable_naming_no_file_is_refused()
    {
        var font = _temp.Sub("missing.ttf");

        var result = Refused(["plot", "--work-dir", run.WorkDir, "--out", _temp.Sub("plot.png")], new Dictionary<string, string> { [PlotFont.Variable] = font });

        Assert.Equal($"error: {PlotFont.Variable} names {font}, which does not exist", result.Error.Trim());
        Assert.False(File.Exists(_temp.Sub("plot.png")));
    }

    [Fact]
    public void Plot_help_shows_the_usage()
    {
        var result = CliProcess.Run(["plot", "--help"]);

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("usage: orchestrator plot --work-dir DIR", result.Output);
    }

    private static void AssertRefused(IEnumerable<string> args, string expectedLine) =>
        Assert.Equal(expectedLine, Refused(args).Error.Trim());

    private static CliResult Refused(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var result = CliProcess.Run(args, environment);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Single(result.Error.Trim().Split('\n'));
        Assert.Equal("", result.Output);
        return result;
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }
}
