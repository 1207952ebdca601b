namespace Orchestrator.Trainer.Jobs.Loading;

/// <summary>
/// Finds a job definition: a built-in one by name, or one in a user's job assembly, whose file must still
/// have the hash recorded when the job was submitted. Each file version loads once per process (a rank
/// restart reuses it), but the file is read and hashed at every resolve, so a changed file is always refused.
/// </summary>
public static class JobResolver
{
    private static readonly Dictionary<(string Path, string Sha256), JobLibrary> Loaded = [];
    private static readonly Lock Gate = new();

    /// <summary>The job <paramref name="name"/>: built in when <paramref name="assembly"/> is null, else from that file.</summary>
    public static IJobDefinition Resolve(string name, JobAssemblyRef? assembly)
    {
        if (assembly is null)
        {
            return JobCatalog.Find(name)
                ?? throw new JobLoadException($"unknown job '{name}' (built in: {string.Join(", ", JobCatalog.Names)}; for a job of your own give --job-assembly PATH.dll)");
        }
        return Library(assembly).Find(name);
    }

    /// <summary>The library in <paramref name="assembly"/>'s file, refused if the file's hash is not the recorded one.</summary>
    public static JobLibrary Library(JobAssemblyRef assembly)
    {
        var image = JobAssemblyFile.Read(assembly.Path);
        var sha256 = JobAssemblyRef.HashOf(image);
        if (!string.Equals(sha256, assembly.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new JobAssemblyChangedException(assembly, sha256);
        }
        lock (Gate)
        {
            var key = (assembly.Path, sha256);
            if (!Loaded.TryGetValue(key, out var library))
            {
                library = JobLibrary.Load(assembly.Path, image);
                Loaded[key] = library;
            }
            return library;
        }
    }
}

/// <summary>The job assembly's file is not the one the job was submitted with.</summary>
public sealed class JobAssemblyChangedException(JobAssemblyRef recorded, string actualSha256)
    : ArgumentException($"job assembly {recorded.Path} has sha256 {actualSha256}, but the job was submitted with sha256 {recorded.Sha256}; restore that build, or to run the new code resubmit with --resume PATH (a checkpoint of this job)")
{
    public JobAssemblyRef Recorded { get; } = recorded;

    public string ActualSha256 { get; } = actualSha256;
}
