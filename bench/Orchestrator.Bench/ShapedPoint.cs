namespace Orchestrator.Bench;

/// <summary>
/// Everything measured at one world size and link rate: the plain copy around the ring (calibration), the
/// ring all-reduce alone, the model step alone (the same at every rate), and the whole step through the
/// hub and through the ring.
/// </summary>
internal sealed record ShapedPoint(int World, double BitsPerSecond, long GradientBytes, ShapedTiming Copy, ShapedTiming Collective, ShapedTiming Compute,
    ShapedTiming Hub, ShapedTiming Ring)
{
    /// <summary>What each rank sends (and receives) in a ring all-reduce: 2(R−1)/R of the gradients.</summary>
    public long RingBytesPerLink => 2L * (World - 1) * GradientBytes / World;

    /// <summary>The ring's bandwidth bound at the set rate, 2(R−1)M/(R·B).</summary>
    public double Bound => RingBytesPerLink * 8 / BitsPerSecond;

    /// <summary>The rate one link reached in the plain copy, every link copying at once, in bits per second.</summary>
    public double AchievedBitsPerSecond => RingBytesPerLink * 8 / Copy.Seconds;

    /// <summary>
    /// The least a hub step can take on these links: every remote rank's gradients cross the supervisor's
    /// node's one link in, and their averages cross it out, (R−1)·M each way at the rate set. (Not at the
    /// plain copy's rate: that copy keeps all R links busy at once, the hub mostly one.)
    /// </summary>
    public double HubFloor => (World - 1) * GradientBytes * 8 / BitsPerSecond;
}
