using Orchestrator.Cli.Commands;
using SkiaSharp;

namespace Orchestrator.Cli.Plots;

/// <summary>
/// The font file the plot's text is drawn with, registered with ScottPlot by file. Skia's own lookup is not
/// used: the Linux native library we ship has no fontconfig, and a fresh machine may have no fonts at all,
/// in which case Skia draws every label as nothing and says nothing.
/// </summary>
internal sealed record PlotFont(string Family, string RegularFile, string BoldFile)
{
    /// <summary>A font file to use instead of searching (any TrueType or OpenType file).</summary>
    public const string Variable = "ORCHESTRATOR_PLOT_FONT";

    public static readonly string[] SystemDirectories =
    [
        "/usr/share/fonts", "/usr/local/share/fonts",
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local/share/fonts"),
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".fonts"),
        "/System/Library/Fonts", "/Library/Fonts", @"C:\Windows\Fonts",
    ];

    // Sans-serif faces that read well at small sizes, best first; any other font file is the last resort.
    private static readonly string[] Preferred = ["DejaVuSans.ttf", "LiberationSans-Regular.ttf", "NotoSans-Regular.ttf", "FreeSans.ttf", "Arial.ttf", "arial.ttf", "Helvetica.ttc"];

    private const string Install = "install one (Debian: apt-get install fonts-dejavu-core) or set ORCHESTRATOR_PLOT_FONT=FILE.ttf";

    public static PlotFont Find() => Find(Environment.GetEnvironmentVariable(Variable), SystemDirectories);

    public static PlotFont Find(string? chosen, IEnumerable<string> directories)
    {
        if (!string.IsNullOrEmpty(chosen))
        {
            return File.Exists(chosen)
                ? Load(chosen)
                : throw new UsageException($"{Variable} names {chosen}, which does not exist");
        }
        var files = directories.Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*.*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true }))
            .Where(f => f.EndsWith(".ttf", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".otf", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .ToList();
        var regular = Preferred.Select(name => files.FirstOrDefault(f => Path.GetFileName(f) == name)).FirstOrDefault(f => f is not null)
            ?? files.OrderBy(f => Styled(Path.GetFileNameWithoutExtension(f))).FirstOrDefault(Readable)
            ?? throw new UsageException($"no font file found for the plot's text (searched {string.Join(", ", directories)}): {Install}");
        return Load(regular);
    }

    /// <summary>Registers both faces with ScottPlot under the font's own family name, which an SVG also names.</summary>
    public void Register()
    {
        ScottPlot.Fonts.AddFontFile(Family, RegularFile, bold: false, italic: false);
        ScottPlot.Fonts.AddFontFile(Family, BoldFile, bold: true, italic: false);
    }

    private static PlotFont Load(string regular)
    {
        using var typeface = SKTypeface.FromFile(regular);
        if (typeface is null || typeface.GlyphCount == 0)
        {
            throw new UsageException($"{regular} is not a font file Skia can read: {Install}");
        }
        // DejaVuSans.ttf sits next to DejaVuSans-Bold.ttf; without a bold face, titles use the regular one.
        var bold = Path.Combine(Path.GetDirectoryName(regular)!, Path.GetFileNameWithoutExtension(regular).Replace("-Regular", "", StringComparison.Ordinal) + "-Bold" + Path.GetExtension(regular));
        return new PlotFont(typeface.FamilyName, regular, File.Exists(bold) ? bold : regular);
    }

    /// <summary>Bold, italic, narrow and monospaced faces come after plain ones when no preferred font is there.</summary>
    private static bool Styled(string name) =>
        new[] { "Bold", "Italic", "Oblique", "Light", "Thin", "Black", "Condensed", "Narrow", "Mono" }.Any(style => name.Contains(style, StringComparison.OrdinalIgnoreCase));

    private static bool Readable(string file)
    {
        using var typeface = SKTypeface.FromFile(file);
        return typeface is { GlyphCount: > 0 };
    }
}
