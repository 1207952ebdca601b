using System.Buffers.Binary;
using System.Runtime.Serialization;
using Akka.Actor;
using Orchestrator.Actors.Gradients;
using Orchestrator.Actors.Protocol;
using Orchestrator.Actors.Tests.Cluster;

namespace Orchestrator.Actors.Tests.Gradients;

/// <summary>Bytes that are not what the serializer wrote: one clear SerializationException, never a huge allocation.</summary>
public sealed class FloatArrayMessageCorruptionTests(ClusterConfiguredSystem node) : IClassFixture<ClusterConfiguredSystem>
{
    private readonly FloatArrayMessageSerializer _serializer = new((ExtendedActorSystem)node.System);

    public static TheoryData<string> Manifests() => ["G", "A", "E", "I"];

    [Fact]
    public void An_unknown_manifest_is_named()
    {
        var error = Assert.Throws<SerializationException>(() => _serializer.FromBinary([1, 2, 3, 4], "X"));

        Assert.Equal("unknown float-array message manifest 'X'", error.Message);
    }

    [Theory]
    [MemberData(nameof(Manifests))]
    public void Bytes_that_end_inside_the_header_are_called_cut_short(string manifest)
    {
        var error = Assert.Throws<SerializationException>(() => _serializer.FromBinary([0xFF, 0xFF, 0xFF, 0xFF, 0xFF], manifest));

        Assert.Contains($"float-array message '{manifest}' is cut short", error.Message);
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(-1)]
    [InlineData(5)]
    [InlineData(3)]
    public void A_float_count_that_disagrees_with_the_bytes_is_refused_before_allocating(int count)
    {
        var bytes = _serializer.ToBinary(new ImportBuffers(1, 2, [1f, 2f, 3f, 4f]));
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), count); // generation (4) and step (8) come first

        var error = Assert.Throws<SerializationException>(() => _serializer.FromBinary(bytes, "I"));

        Assert.Equal($"float-array message 'I' announces {count} floats but carries 16 bytes after its header (corrupt, or not written by this serializer)", error.Message);
    }

    [Fact]
    public void Trailing_bytes_are_refused()
    {
        var bytes = _serializer.ToBinary(new BuffersExported(1, 0, 2, [1f, 2f]));

        var error = Assert.Throws<SerializationException>(() => _serializer.FromBinary([.. bytes, 0, 0, 0, 0], "E"));

        Assert.Contains("announces 2 floats but carries 12 bytes", error.Message);
    }

    [Theory]
    [MemberData(nameof(Manifests))]
    public void Random_garbage_gives_a_serialization_error_for_every_manifest(string manifest)
    {
        var random = new Random(manifest[0]);
        for (var length = 0; length < 200; length += 7)
        {
            var garbage = new byte[length];
            random.NextBytes(garbage);
            Assert.Throws<SerializationException>(() => _serializer.FromBinary(garbage, manifest));
        }
    }

    [Fact]
    public void Garbage_through_the_actor_system_surfaces_the_same_error()
    {
        var error = Assert.Throws<SerializationException>(() => node.System.Serialization.Deserialize([9, 9, 9], _serializer.Identifier, "G"));

        Assert.Contains("is cut short", error.Message);
    }
}
