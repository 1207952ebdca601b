// Rank replicas share TorchSharp's process-wide generator and thread count; jobs of different tests must
// not run at the same time, or neither would be reproducible.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
