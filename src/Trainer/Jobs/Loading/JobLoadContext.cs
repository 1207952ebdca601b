using System.Reflection;
using System.Runtime.Loader;

namespace Orchestrator.Trainer.Jobs.Loading;

/// <summary>
/// The load context of one job assembly. Whatever the host itself ships (Orchestrator.Trainer, TorchSharp,
/// Akka, the framework) comes from the host, so the job's types are the host's types and one libtorch is
/// loaded; anything else the job needs comes from beside it, as its .deps.json says.
/// </summary>
internal sealed class JobLoadContext(string path) : AssemblyLoadContext($"job {System.IO.Path.GetFileName(path)}")
{
    private static readonly Lazy<HashSet<string>> HostAssemblies = new(() =>
        ((AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string) ?? "")
            .Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(System.IO.Path.GetFileNameWithoutExtension)
            .OfType<string>()
            .ToHashSet(StringComparer.OrdinalIgnoreCase));

    private readonly AssemblyDependencyResolver _resolver = new(path);

    protected override Assembly? Load(AssemblyName name)
    {
        if (name.Name is null || IsShared(name.Name))
        {
            return null; // the default context: the host's copy
        }
        return _resolver.ResolveAssemblyToPath(name) is { } file ? LoadFromAssemblyPath(file) : null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        // TorchSharp (the host's) loads libtorch itself; a second copy from the job's folder must never load.
        if (unmanagedDllName.Contains("torch", StringComparison.OrdinalIgnoreCase))
        {
            return IntPtr.Zero;
        }
        return _resolver.ResolveUnmanagedDllToPath(unmanagedDllName) is { } file ? LoadUnmanagedDllFromPath(file) : IntPtr.Zero;
    }

    private static bool IsShared(string name) =>
        HostAssemblies.Value.Contains(name)
        || name is "Orchestrator.Trainer" or "Orchestrator.Actors"
        || name.StartsWith("TorchSharp", StringComparison.Ordinal)
        || name.StartsWith("Akka", StringComparison.Ordinal);
}
