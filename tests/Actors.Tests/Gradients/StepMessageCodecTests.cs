using Orchestrator.Actors.Gradients;
using Orchestrator.Actors.Protocol;
using Orchestrator.Trainer.Distributed;

namespace Orchestrator.Actors.Tests.Gradients;

/// <summary>The step start and step end as gradient-link headers: every field back as it was, corrupt headers refused by name.</summary>
public sealed class StepMessageCodecTests
{
    [Theory]
    [InlineData(null)]
    [InlineData(FaultKind.Crash)]
    [InlineData(FaultKind.Hang)]
    [InlineData(FaultKind.Nan)]
    public void A_step_start_comes_back_equal(FaultKind? fault)
    {
        var compute = new ComputeGradients(7, long.MaxValue - 3, fault, Alone: true, Through: 1L << 40);

        Assert.Equal(compute, StepMessageCodec.DecodeCompute(StepMessageCodec.Encode(compute)));
    }

    [Fact]
    public void A_step_end_comes_back_equal_to_the_bit()
    {
        var applied = new StepApplied(3, 1, 123_456_789_012, 42, true, 1e-3, double.NaN, 512, 0.0015);

        var back = StepMessageCodec.DecodeApplied(StepMessageCodec.Encode(applied));

        Assert.Equal(applied, back);
        Assert.Equal(BitConverter.DoubleToInt64Bits(applied.LearningRate), BitConverter.DoubleToInt64Bits(back.LearningRate));
    }

    [Fact]
    public void A_header_cut_short_is_refused_by_name()
    {
        var bytes = StepMessageCodec.Encode(new StepApplied(1, 1, 2, 0, false, 0.1));

        var error = Assert.Throws<InvalidDataException>(() => StepMessageCodec.DecodeApplied(bytes[..^1]));

        Assert.Equal($"a step end frame of {bytes.Length - 1} header bytes is too short (corrupt, or not from this version)", error.Message);
    }

    [Fact]
    public void Bytes_after_the_fields_are_refused()
    {
        var bytes = StepMessageCodec.Encode(new ComputeGradients(1, 2, null));

        var error = Assert.Throws<InvalidDataException>(() => StepMessageCodec.DecodeCompute([.. bytes, 0]));

        Assert.Equal("a step start frame has 1 bytes after its fields (corrupt, or not from this version)", error.Message);
    }

    [Fact]
    public void A_fault_kind_that_does_not_exist_is_refused()
    {
        var bytes = StepMessageCodec.Encode(new ComputeGradients(1, 2, null));
        bytes[12] = 200; // after the generation (4 bytes) and the step (8)

        var error = Assert.Throws<InvalidDataException>(() => StepMessageCodec.DecodeCompute(bytes));

        Assert.Equal("a step start names fault kind 199, which does not exist", error.Message);
    }
}
