namespace Orchestrator.NativeFixup;

/// <summary>Finds the libstdc++ the dynamic loader would pick and the GLIBCXX versions it offers.</summary>
public static class HostLibStdCxx
{
    private static readonly string[] SearchDirectories =
    [
        "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
        "/usr/lib64", "/lib64", "/usr/lib", "/lib",
    ];

    public static string? Locate()
    {
        foreach (var directory in SearchDirectories)
        {
            var candidate = Path.Combine(directory, "libstdc++.so.6");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    public static IReadOnlySet<string> OfferedVersions(string libraryPath) =>
        ElfImage.Parse(File.ReadAllBytes(libraryPath)).VersionDefinitions().ToHashSet(StringComparer.Ordinal);
}
