using Orchestrator.NativeFixup;

// Usage: NativeFixup <output-folder>
// Weakens the GLIBCXX_3.4.32 need of every libLibTorchSharp.so below the folder, but only when the host's
// libstdc++ does not offer that version. Idempotent; prints one line per file it changed.
const string TorchSharpLibrary = "libLibTorchSharp.so";
const string MissingOnOlderHosts = "GLIBCXX_3.4.32";

if (args.Length != 1 || !Directory.Exists(args[0]))
{
    Console.Error.WriteLine("NativeFixup: expected one argument, an existing output folder");
    return 2;
}
if (!OperatingSystem.IsLinux())
{
    return 0;
}
var hostLibrary = HostLibStdCxx.Locate();
if (hostLibrary is null || HostLibStdCxx.OfferedVersions(hostLibrary).Contains(MissingOnOlderHosts))
{
    return 0;
}
var versions = new HashSet<string>(StringComparer.Ordinal) { MissingOnOlderHosts };
foreach (var library in Directory.EnumerateFiles(args[0], TorchSharpLibrary, SearchOption.AllDirectories))
{
    var changed = VersionNeedWeakener.Weaken(library, versions);
    if (changed.Count > 0)
    {
        Console.WriteLine($"NativeFixup: {library}: marked {string.Join(", ", changed)} weak ({hostLibrary} lacks it)");
    }
}
return 0;
