namespace Orchestrator.Actors.Gradients;

/// <summary>
/// How a rank averages a step's gradients with its peers of one generation without the supervisor: around a
/// ring of links (<see cref="RingMember"/>) or in the memory of a process they share (<see cref="SharedAllReduce"/>).
/// </summary>
internal interface IGradientCollective
{
    /// <summary>
    /// Averages <paramref name="values"/> (this rank's, flattened) with every peer's; <paramref name="loss"/> and
    /// <paramref name="samples"/> are this rank's, told to the others. Called on the rank's thread.
    /// </summary>
    RingReduced AllReduce(long step, float[] values, double loss, long samples);
}
