namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// The counters a sealed checkpoint records (its iteration, epoch and samples seen) are refused outside 0 to
/// 2^53. A seal only proves the bytes were written as they are, not by this program: a crafted iteration of
/// 2^62 would otherwise be resumed from, and every step count derived from it would overflow. 2^53 is
/// beyond any run (a million steps a second for 285 years) and the largest integer a double holds exactly,
/// which JSON tools, plots and TensorBoard's step readers rely on.
/// </summary>
internal static class SealedCounters
{
    public const long Max = 1L << 53;

    public static void Require(string checkpoint, CheckpointManifest manifest, CheckpointInfo info)
    {
        foreach (var (entry, value) in new[] { ("iteration", manifest.Iteration), ("info.iteration", info.Iteration), ("info.epoch", info.Epoch), ("info.samplesSeen", info.SamplesSeen) })
        {
            if (value is < 0 or > Max)
            {
                throw new CorruptCheckpointException(
                    $"{checkpoint}: {CheckpointFormat.ManifestFile} entry {entry} is {value}, outside 0 to 2^53 (no run reaches it: crafted or corrupt, refused)");
            }
        }
    }
}
