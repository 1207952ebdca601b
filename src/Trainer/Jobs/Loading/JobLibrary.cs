using System.Reflection;

namespace Orchestrator.Trainer.Jobs.Loading;

/// <summary>
/// A user's job assembly, loaded: the file it came from and the job definitions it exports by name (every
/// public, non-abstract class implementing <see cref="IJobDefinition"/> with a public parameterless constructor).
/// </summary>
public sealed class JobLibrary
{
    private readonly IReadOnlyDictionary<string, IJobDefinition> _jobs;

    private JobLibrary(JobAssemblyRef source, IReadOnlyDictionary<string, IJobDefinition> jobs)
    {
        Source = source;
        _jobs = jobs;
    }

    public JobAssemblyRef Source { get; }

    public IReadOnlyList<string> Names => _jobs.Keys.Order(StringComparer.Ordinal).ToList();

    public IJobDefinition Find(string name) => _jobs.TryGetValue(name, out var definition)
        ? definition
        : throw new JobLoadException($"{Source.Path} has no job '{name}' (it has: {string.Join(", ", Names)})");

    /// <summary>Loads the exact bytes that were hashed, so the code that runs is the code recorded.</summary>
    internal static JobLibrary Load(string path, byte[] image)
    {
        JobAssemblyFile.CheckCompatible(path, JobAssemblyFile.TrainerVersionReferenced(path, image));
        var source = new JobAssemblyRef(path, JobAssemblyRef.HashOf(image));
        var context = new JobLoadContext(path);
        var symbols = Path.ChangeExtension(path, ".pdb");
        Assembly assembly;
        try
        {
            using var code = new MemoryStream(image, writable: false);
            using var pdb = File.Exists(symbols) ? File.OpenRead(symbols) : null;
            assembly = context.LoadFromStream(code, pdb);
        }
        catch (BadImageFormatException e)
        {
            throw new JobLoadException($"{path} is not a .NET assembly this runtime can load: {e.Message}");
        }
        return new JobLibrary(source, Definitions(path, assembly));
    }

    private static Dictionary<string, IJobDefinition> Definitions(string path, Assembly assembly)
    {
        Type[] types;
        try
        {
            types = assembly.GetExportedTypes();
        }
        catch (Exception e) when (e is ReflectionTypeLoadException or FileNotFoundException or FileLoadException or TypeLoadException)
        {
            throw new JobLoadException($"{path} cannot be loaded: {Loading.FirstLine(e)} (keep its .deps.json and dependencies beside it, as its build output has them)");
        }
        var jobs = new Dictionary<string, IJobDefinition>(StringComparer.Ordinal);
        foreach (var type in types.Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IJobDefinition).IsAssignableFrom(t)))
        {
            if (type.GetConstructor(Type.EmptyTypes) is null)
            {
                throw new JobLoadException($"{path}: job class {type.FullName} needs a public parameterless constructor");
            }
            var definition = Construct(path, type);
            var name = definition.Name;
            if (string.IsNullOrWhiteSpace(name))
            {
                throw new JobLoadException($"{path}: job class {type.FullName} has an empty Name");
            }
            if (!jobs.TryAdd(name, definition))
            {
                throw new JobLoadException($"{path} defines job '{name}' twice ({jobs[name].GetType().FullName} and {type.FullName}); give each a name of its own");
            }
        }
        return jobs.Count > 0
            ? jobs
            : throw new JobLoadException($"{path} defines no job: add a public class implementing Orchestrator.Trainer.Jobs.IJobDefinition");
    }

    private static IJobDefinition Construct(string path, Type type)
    {
        try
        {
            return (IJobDefinition)Activator.CreateInstance(type)!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw new JobLoadException($"{path}: creating job class {type.FullName} failed: {Loading.FirstLine(e.InnerException)}");
        }
        catch (Exception e) when (e is MissingMethodException or TypeLoadException or FileNotFoundException or FileLoadException)
        {
            throw new JobLoadException($"{path}: job class {type.FullName} cannot be created: {Loading.FirstLine(e)} (was it built against another Orchestrator.Trainer?)");
        }
    }
}

internal static class Loading
{
    public static string FirstLine(Exception e) => e.Message.Split('\n', 2)[0].Trim();
}
