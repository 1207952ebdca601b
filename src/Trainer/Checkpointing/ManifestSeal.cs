using System.Text;
using System.Text.Json;

namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// A format 3 manifest carries the hash of its own bytes, so a flipped bit in the info or a component's
/// metadata is caught as surely as one in a tensor file. The hash is the manifest's first property: it is
/// computed over the file as written with its 32 hex characters as zeros, then written over them. The
/// manifest's first <c>"manifestXxh128": "</c> is that property, since the serializer writes properties in
/// declaration order; one that was reformatted or edited no longer matches, and is reported corrupt.
/// </summary>
internal static class ManifestSeal
{
    private const int HashLength = 32;
    private static readonly byte[] Property = "\"manifestXxh128\": \""u8.ToArray();
    private static readonly string Unsealed = new('0', HashLength);

    /// <summary>The manifest's bytes as they go to disk, its own hash in place.</summary>
    public static byte[] Sealed(CheckpointManifest manifest)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(manifest with { ManifestXxh128 = Unsealed }, CheckpointJson.Options);
        var at = HashAt(bytes);
        if (at < 0)
        {
            throw new InvalidOperationException("the manifest's own hash is not its first property");
        }
        Encoding.ASCII.GetBytes(HashOf(bytes), bytes.AsSpan(at, HashLength));
        return bytes;
    }

    /// <summary>Whether <paramref name="bytes"/> hash to what their first property records.</summary>
    public static bool Holds(byte[] bytes, string recorded)
    {
        var at = HashAt(bytes);
        if (at < 0)
        {
            return false;
        }
        var unsealed = (byte[])bytes.Clone();
        unsealed.AsSpan(at, HashLength).Fill((byte)'0');
        return HashOf(unsealed) == recorded;
    }

    private static int HashAt(ReadOnlySpan<byte> bytes)
    {
        var property = bytes.IndexOf(Property);
        return property < 0 || property + Property.Length + HashLength > bytes.Length ? -1 : property + Property.Length;
    }

    private static string HashOf(byte[] bytes)
    {
        using var checksum = FileChecksum.Xxh128();
        checksum.Append(bytes);
        return checksum.Finish();
    }
}
