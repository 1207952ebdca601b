namespace Orchestrator.Actors.Protocol;

/// <summary>
/// A slice of one rank's flattened gradients (large tensors travel in chunks). Within a process the slice
/// is a view of the rank's gradient array, not a copy: that array is not written again before the rank's
/// next step, which starts only once every chunk of this one is averaged.
/// </summary>
public sealed record GradientChunk(int Generation, int Rank, long Step, int Index, int Count, int TotalLength, ArraySegment<float> Values, double Loss, long Samples);

/// <summary>
/// A slice of the averaged gradients, the same for every rank. Within a process it is a view of the
/// supervisor's averaged array, which is not written again before the next step.
/// </summary>
public sealed record AveragedChunk(int Generation, long Step, int Index, int Count, int TotalLength, ArraySegment<float> Values, long GlobalSamples);
