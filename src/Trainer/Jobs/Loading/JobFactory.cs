namespace Orchestrator.Trainer.Jobs.Loading;

/// <summary>Builds a job's replica from its definition, turning a factory's failure into one line.</summary>
public static class JobFactory
{
    /// <summary>
    /// The arguments a job is given: the job settings of the flags (<c>--batch-size</c>, <c>--lr</c>, ...) under
    /// their keys, and the <c>--job-arg</c> pairs. A key given both ways with two values is refused.
    /// </summary>
    public static JobArgs Arguments(BuiltInJobOptions options, IReadOnlyDictionary<string, string>? jobArgs)
    {
        var merged = new Dictionary<string, string>(options.AsArguments(), StringComparer.Ordinal);
        foreach (var (key, value) in jobArgs ?? new Dictionary<string, string>())
        {
            if (merged.TryGetValue(key, out var fromFlag) && fromFlag != value)
            {
                throw new JobArgumentException(key, $"job argument {key} is given twice ({fromFlag} by its flag, {value} by --job-arg); give it once");
            }
            merged[key] = value;
        }
        return new JobArgs(merged);
    }

    public static TrainingJob Create(IJobDefinition definition, JobContext context)
    {
        try
        {
            return definition.Create(context)
                ?? throw new JobLoadException($"job '{definition.Name}' returned no TrainingJob from Create");
        }
        catch (Exception e) when (e is JobArgumentException or JobLoadException)
        {
            throw;
        }
        catch (FileNotFoundException e) when (e.FileName is not null && !Path.IsPathRooted(e.FileName))
        {
            // An assembly the job uses is missing: a class library's build leaves its packages in the NuGet cache.
            throw new JobLoadException($"job '{definition.Name}' failed to build rank {context.Rank} of {context.WorldSize}: {Loading.FirstLine(e)} (a package the job library uses is not beside its dll: add <EnableDynamicLoading>true</EnableDynamicLoading> to its project and rebuild)", e);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new JobLoadException($"job '{definition.Name}' failed to build rank {context.Rank} of {context.WorldSize}: {Loading.FirstLine(e)}", e);
        }
    }
}
