using System.Runtime.InteropServices;

namespace Orchestrator.Actors.Gradients;

/// <summary>How gradients travel between ranks on the ring; they are always summed in fp32.</summary>
public enum GradientWireType
{
    Fp32,
    Bf16,
    Fp16,
}

/// <summary>
/// Half-precision gradients on the wire: two values packed into each float slot of a frame (the frame code
/// moves floats), each rounded to nearest even once, so every rank decodes the same bytes to the same floats.
/// </summary>
internal static class HalfWire
{
    /// <summary>Float slots that carry <paramref name="count"/> half values.</summary>
    public static int SlotsFor(int count) => (count + 1) / 2;

    public static void Encode(GradientWireType type, ReadOnlySpan<float> values, Span<float> slots)
    {
        var halves = MemoryMarshal.Cast<float, ushort>(slots);
        for (var i = 0; i < values.Length; i++)
        {
            halves[i] = type == GradientWireType.Bf16 ? ToBf16(values[i]) : BitConverter.HalfToUInt16Bits((Half)values[i]);
        }
        if ((values.Length & 1) == 1)
        {
            halves[values.Length] = 0;
        }
    }

    public static void Decode(GradientWireType type, ReadOnlySpan<float> slots, Span<float> values)
    {
        var halves = MemoryMarshal.Cast<float, ushort>(slots);
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = type == GradientWireType.Bf16 ? FromBf16(halves[i]) : (float)BitConverter.UInt16BitsToHalf(halves[i]);
        }
    }

    /// <summary>Rounds <paramref name="values"/> in place to what the wire carries: what a receiver will decode.</summary>
    public static void Round(GradientWireType type, Span<float> values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = type == GradientWireType.Bf16 ? FromBf16(ToBf16(values[i])) : (float)(Half)values[i];
        }
    }

    /// <summary>The upper 16 bits, rounded to nearest even; NaN stays NaN.</summary>
    private static ushort ToBf16(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return (ushort)((bits >> 16) | 0x40);
        }
        var rounding = 0x7FFFu + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    private static float FromBf16(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);
}
