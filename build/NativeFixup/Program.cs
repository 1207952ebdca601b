using Orchestrator.NativeFixup;

// Usage: NativeFixup [--any-host] <output-folder>
// Weakens the GLIBCXX_3.4.32 need of every libLibTorchSharp.so below the folder, but only when the host's
// libstdc++ does not offer that version. --any-host weakens it whatever the host offers: for a folder that
// leaves this machine (the orchestrator tool package), where the host that will load it is not known. A weak
// need is harmless where the version exists. Idempotent; prints one line per file it changed.
const string TorchSharpLibrary = "libLibTorchSharp.so";
const string MissingOnOlderHosts = "GLIBCXX_3.4.32";
const string AnyHostOption = "--any-host";

var anyHost = args.Length == 2 && args[0] == AnyHostOption;
var folder = args.Length == 1 ? args[0] : anyHost ? args[1] : null;
if (folder is null || !Directory.Exists(folder))
{
    Console.Error.WriteLine($"NativeFixup: expected [{AnyHostOption}] and one argument, an existing output folder");
    return 2;
}
string reason;
if (anyHost)
{
    reason = "for any host";
}
else
{
    if (!OperatingSystem.IsLinux())
    {
        return 0;
    }
    var hostLibrary = HostLibStdCxx.Locate();
    if (hostLibrary is null || HostLibStdCxx.OfferedVersions(hostLibrary).Contains(MissingOnOlderHosts))
    {
        return 0;
    }
    reason = $"{hostLibrary} lacks it";
}
var versions = new HashSet<string>(StringComparer.Ordinal) { MissingOnOlderHosts };
foreach (var library in Directory.EnumerateFiles(folder, TorchSharpLibrary, SearchOption.AllDirectories))
{
    var changed = VersionNeedWeakener.Weaken(library, versions);
    if (changed.Count > 0)
    {
        Console.WriteLine($"NativeFixup: {library}: marked {string.Join(", ", changed)} weak ({reason})");
    }
}
return 0;
