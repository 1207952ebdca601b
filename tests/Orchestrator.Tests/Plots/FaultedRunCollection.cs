namespace Orchestrator.Tests.Plots;

/// <summary>The plot test classes share one <see cref="FaultedRun"/>: the job is trained once, not once per class.</summary>
[CollectionDefinition(Name)]
public sealed class FaultedRunCollection : ICollectionFixture<FaultedRun>
{
    public const string Name = "plot of a faulted run";
}
