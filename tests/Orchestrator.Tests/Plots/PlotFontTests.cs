using Orchestrator.Cli.Commands;
using Orchestrator.Cli.Plots;

namespace Orchestrator.Tests.Plots;

/// <summary>The plot's text comes from a font file found on disk; with none, one line says what to install.</summary>
public sealed class PlotFontTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Plot_font_search_without_any_font_file_names_the_package_to_install()
    {
        var empty = Directory.CreateDirectory(_temp.Sub("fonts")).FullName;
        File.WriteAllText(Path.Combine(empty, "README"), "no fonts here");

        var error = Assert.Throws<UsageException>(() => PlotFont.Find(chosen: null, [empty, _temp.Sub("absent")]));

        Assert.Equal($"no font file found for the plot's text (searched {empty}, {_temp.Sub("absent")}): install one (Debian: apt-get install fonts-dejavu-core) or set ORCHESTRATOR_PLOT_FONT=FILE.ttf", error.Message);
    }

    [Fact]
    public void Plot_font_search_finds_a_font_file_in_a_nested_folder_and_its_bold_face()
    {
        var system = PlotFont.Find(chosen: null, PlotFont.SystemDirectories);
        var nested = Directory.CreateDirectory(_temp.Sub("fonts/truetype/family")).FullName;
        File.Copy(system.RegularFile, Path.Combine(nested, "Plain-Regular.ttf"));
        File.Copy(system.BoldFile, Path.Combine(nested, "Plain-Bold.ttf"));

        var found = PlotFont.Find(chosen: null, [_temp.Sub("fonts")]);

        Assert.Equal((Path.Combine(nested, "Plain-Regular.ttf"), Path.Combine(nested, "Plain-Bold.ttf")), (found.RegularFile, found.BoldFile));
        Assert.Equal(system.Family, found.Family);
    }

    [Fact]
    public void Plot_font_refuses_a_file_that_is_not_a_font()
    {
        var fake = _temp.Sub("fake.ttf");
        File.WriteAllText(fake, "not a font");

        var error = Assert.Throws<UsageException>(() => PlotFont.Find(chosen: fake, []));

        Assert.StartsWith($"{fake} is not a font file Skia can read", error.Message);
    }
}
