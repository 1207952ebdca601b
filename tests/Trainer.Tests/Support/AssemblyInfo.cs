// TorchSharp's generator seed and thread count are process-wide: runs in parallel would disturb each other's
// reproducibility, which is exactly what these tests check.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
