using System.Runtime.InteropServices;
using Akka.Actor;
using Orchestrator.Actors.Cluster;
using Orchestrator.Actors.Gradients;
using Orchestrator.Actors.Protocol;
using Orchestrator.Actors.Tests.Cluster;

namespace Orchestrator.Actors.Tests.Gradients;

public sealed class FloatArrayMessageSerializerTests(ClusterConfiguredSystem node) : IClassFixture<ClusterConfiguredSystem>
{
    // Patterns a float format could lose: NaNs with payloads (quiet, negative, signalling), both zeros,
    // the smallest and largest subnormals, infinities and the extremes.
    private static readonly float[] Awkward =
    [
        BitConverter.Int32BitsToSingle(0x7FC00001), BitConverter.Int32BitsToSingle(unchecked((int)0xFFC12345)),
        BitConverter.Int32BitsToSingle(0x7F800001), -0.0f, 0.0f, float.Epsilon, -float.Epsilon,
        BitConverter.Int32BitsToSingle(0x007FFFFF), float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, float.MinValue, 1f / 3,
    ];

    private static readonly double NaNWithPayload = BitConverter.Int64BitsToDouble(0x7FF8_0000_DEAD_BEEF);

    private readonly ActorSystem _system = node.System;

    private FloatArrayMessageSerializer Direct => new((ExtendedActorSystem)_system);

    public static TheoryData<string> Cases() => new(MessagesByName.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_message_round_trips_bit_exactly_through_the_serializer(string name)
    {
        var message = MessagesByName[name]();
        var serializer = Direct;

        AssertBitExact(message, serializer.FromBinary(serializer.ToBinary(message), serializer.Manifest(message)));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_message_round_trips_bit_exactly_through_a_node_configured_actor_system(string name)
    {
        var message = MessagesByName[name]();

        var serializer = _system.Serialization.FindSerializerFor(message);
        var bytes = serializer.ToBinary(message);
        var back = _system.Serialization.Deserialize(bytes, serializer.Identifier, Akka.Serialization.Serialization.ManifestFor(serializer, message));

        Assert.IsType<FloatArrayMessageSerializer>(serializer);
        AssertBitExact(message, back);
    }

    [Fact]
    public void A_one_MiB_chunk_costs_its_raw_floats_plus_a_small_header()
    {
        var chunk = Gradient(Random(Chunking.ChunkLength), loss: 0.5);

        var bytes = Direct.ToBinary(chunk);

        Assert.Equal((Chunking.ChunkLength * sizeof(float)) + 48, bytes.Length);
    }

    [Fact]
    public void Identifier_and_manifests_are_a_wire_contract_and_stay_the_same()
    {
        // Nodes of different builds must agree on these; changing one needs a new WireProtocol.Version.
        Assert.Equal(7301, Direct.Identifier);
        Assert.Equal("G", Direct.Manifest(Gradient([], 0)));
        Assert.Equal("A", Direct.Manifest(new AveragedChunk(0, 0, 0, 1, 0, [], 0)));
        Assert.Equal("E", Direct.Manifest(new BuffersExported(0, 0, 0, [])));
        Assert.Equal("I", Direct.Manifest(new ImportBuffers(0, 0, [])));
    }

    [Fact]
    public void A_message_that_carries_no_float_array_is_not_taken()
    {
        var error = Assert.Throws<ArgumentException>(() => Direct.ToBinary(new StepApplied(1, 0, 1, 0, false, 0.1)));

        Assert.Contains("StepApplied is not a float-array message", error.Message);
    }

    private static readonly Dictionary<string, Func<object>> MessagesByName = new()
    {
        ["gradient awkward"] = () => Gradient(Awkward, NaNWithPayload),
        ["gradient empty"] = () => Gradient([], -0.0),
        ["gradient 1 MiB"] = () => Gradient(Random(Chunking.ChunkLength), double.Epsilon),
        ["averaged awkward"] = () => new AveragedChunk(int.MaxValue, long.MaxValue, 3, 4, int.MaxValue, Awkward, long.MinValue),
        ["averaged empty"] = () => new AveragedChunk(0, 0, 0, 1, 0, [], 0),
        ["averaged 1 MiB"] = () => new AveragedChunk(2, 17, 0, 1, Chunking.ChunkLength, Random(Chunking.ChunkLength), 4096),
        ["buffers exported awkward"] = () => new BuffersExported(int.MinValue, 1, long.MinValue, Awkward),
        ["buffers exported empty"] = () => new BuffersExported(1, 0, 0, []),
        ["buffers exported 1 MiB"] = () => new BuffersExported(3, 1, 99, Random(Chunking.ChunkLength)),
        ["import buffers awkward"] = () => new ImportBuffers(-1, long.MaxValue, Awkward),
        ["import buffers empty"] = () => new ImportBuffers(1, 0, []),
        ["import buffers 1 MiB"] = () => new ImportBuffers(4, 100, Random(Chunking.ChunkLength)),
    };

    private static GradientChunk Gradient(float[] values, double loss) =>
        new(Generation: 7, Rank: 1, Step: long.MaxValue - 1, Index: 2, Count: 3, TotalLength: int.MaxValue, values, loss, Samples: long.MinValue);

    /// <summary>Every bit pattern is equally likely, so a random chunk holds NaNs and subnormals of all kinds too.</summary>
    private static float[] Random(int length)
    {
        var values = new float[length];
        new Random(length).NextBytes(MemoryMarshal.AsBytes(values.AsSpan()));
        return values;
    }

    private static void AssertBitExact(object expected, object actual)
    {
        Assert.IsType(expected.GetType(), actual);
        switch (expected, actual)
        {
            case (GradientChunk e, GradientChunk a):
                Assert.Equal(e with { Values = Array.Empty<float>() }, a with { Values = Array.Empty<float>() });
                // Record equality calls any two NaNs equal, and 0.0 equal to -0.0: compare the loss's bits too.
                Assert.Equal(BitConverter.DoubleToInt64Bits(e.Loss), BitConverter.DoubleToInt64Bits(a.Loss));
                AssertSameBits(e.Values, a.Values);
                break;
            case (AveragedChunk e, AveragedChunk a):
                Assert.Equal(e with { Values = Array.Empty<float>() }, a with { Values = Array.Empty<float>() });
                AssertSameBits(e.Values, a.Values);
                break;
            case (BuffersExported e, BuffersExported a):
                Assert.Equal(e with { Values = Array.Empty<float>() }, a with { Values = Array.Empty<float>() });
                AssertSameBits(e.Values, a.Values);
                break;
            case (ImportBuffers e, ImportBuffers a):
                Assert.Equal(e with { Values = Array.Empty<float>() }, a with { Values = Array.Empty<float>() });
                AssertSameBits(e.Values, a.Values);
                break;
        }
    }

    private static void AssertSameBits(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var expectedBits = MemoryMarshal.Cast<float, int>(expected);
        var actualBits = MemoryMarshal.Cast<float, int>(actual);
        for (var i = 0; i < expectedBits.Length; i++)
        {
            if (expectedBits[i] != actualBits[i])
            {
                Assert.Fail($"float {i} of {expected.Length} came back as 0x{actualBits[i]:X8}, sent as 0x{expectedBits[i]:X8}");
            }
        }
    }
}
