namespace Orchestrator.Trainer.Jobs;

/// <summary>
/// A job the orchestrator can run: a name and a factory of one rank's replica. The built-in jobs are three of
/// these; a user's own are found in their assembly (<c>orchestrator train --job-assembly PATH.dll --job NAME</c>).
/// A class implementing it needs a public parameterless constructor.
/// </summary>
public interface IJobDefinition
{
    /// <summary>The name given with <c>--job</c>; unique within its assembly.</summary>
    string Name { get; }

    /// <summary>
    /// Builds the replica of rank <see cref="JobContext.Rank"/>. Called once per rank start, after the torch
    /// generator is seeded, so random initialisation is identical on every rank. The global batch stays the
    /// same at every world size: the data source reads rank <c>Rank</c>'s share of each global batch (the
    /// library's datasets take <c>Rank</c> and <c>WorldSize</c> for this).
    /// </summary>
    TrainingJob Create(JobContext context);
}
