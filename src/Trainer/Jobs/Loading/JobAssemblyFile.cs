using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Orchestrator.Trainer.Jobs.Loading;

/// <summary>
/// Checks a job assembly's file before anything of it runs: that it exists, is a .NET assembly, and was built
/// against an Orchestrator.Trainer this host can serve. Reads metadata only; no code of the file is loaded.
/// </summary>
internal static class JobAssemblyFile
{
    public static byte[] Read(string path)
    {
        if (Directory.Exists(path))
        {
            throw new JobLoadException($"job assembly {path} is a folder; give the .dll your job library's build writes (bin/Release/net10.0/NAME.dll)");
        }
        if (!File.Exists(path))
        {
            throw new JobLoadException($"job assembly {path} does not exist; build your job library (dotnet build -c Release) and give its .dll");
        }
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new JobLoadException($"job assembly {path} cannot be read: {e.Message}");
        }
    }

    /// <summary>The Orchestrator.Trainer version the file references (null: it references none).</summary>
    public static Version? TrainerVersionReferenced(string path, byte[] image)
    {
        try
        {
            using var pe = new PEReader(new MemoryStream(image, writable: false));
            if (!pe.HasMetadata)
            {
                throw NotAnAssembly(path);
            }
            var metadata = pe.GetMetadataReader();
            if (!metadata.IsAssembly)
            {
                throw NotAnAssembly(path);
            }
            foreach (var handle in metadata.AssemblyReferences)
            {
                var reference = metadata.GetAssemblyReference(handle);
                if (metadata.GetString(reference.Name) == TrainerAssembly.Name)
                {
                    return reference.Version;
                }
            }
            return null;
        }
        catch (BadImageFormatException)
        {
            throw NotAnAssembly(path);
        }
        catch (InvalidOperationException)
        {
            throw NotAnAssembly(path);
        }
    }

    /// <summary>
    /// A job built against another major version of Orchestrator.Trainer, or a newer one than this host's,
    /// may call what this host lacks: refused before it loads, rather than failing mid-run.
    /// </summary>
    public static void CheckCompatible(string path, Version? referenced)
    {
        var host = TrainerAssembly.Version;
        if (referenced is null)
        {
            throw new JobLoadException($"{path} does not reference Orchestrator.Trainer, so it defines no job; give the .dll of the class library that implements IJobDefinition");
        }
        if (referenced.Major != host.Major || Comparable(referenced) > Comparable(host))
        {
            throw new JobLoadException($"{path} was built against Orchestrator.Trainer {Comparable(referenced)}, which this orchestrator ({Comparable(host)}) cannot run; reference Orchestrator.Trainer {Comparable(host)} in your job library and rebuild it");
        }
    }

    private static Version Comparable(Version v) => new(v.Major, v.Minor, Math.Max(0, v.Build));

    private static JobLoadException NotAnAssembly(string path) =>
        new($"{path} is not a .NET assembly; give the .dll your job library's build writes (bin/Release/net10.0/NAME.dll)");
}

/// <summary>This host's Orchestrator.Trainer, the one every job assembly shares.</summary>
internal static class TrainerAssembly
{
    public static readonly string Name = typeof(IJobDefinition).Assembly.GetName().Name!;

    public static Version Version => typeof(IJobDefinition).Assembly.GetName().Version!;
}
