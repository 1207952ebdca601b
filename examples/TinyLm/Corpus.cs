using System.Security.Cryptography;
using Orchestrator.Trainer.Data;

namespace TinyLm;

/// <summary>The job's text, as a byte-level token file in the work dir.</summary>
internal static class Corpus
{
    private const string ShippedText = "TinyLm.harbour.txt";

    /// <summary>
    /// The token file of <paramref name="textPath"/> (or of the shipped text), written on first use. It is
    /// named by the SHA-256 of the text, so an edited text gets a new file and a stale one is never trusted;
    /// and it is written by rename, so a file under that name is always whole. Ranks that start together may
    /// each write it: every one renames a whole, identical file into place.
    /// </summary>
    public static string TokenFileFor(string? textPath, string workDir)
    {
        if (textPath is null)
        {
            var shipped = Shipped();
            return Once(workDir, "harbour", SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(shipped)), path => TokenFile.Write(path, ByteTokenizer.Encode(shipped), TokenWidth.UInt16));
        }
        var full = Path.GetFullPath(textPath);
        if (!File.Exists(full))
        {
            throw new FileNotFoundException($"text file {full} does not exist (job argument text=PATH)", full);
        }
        using var text = File.OpenRead(full);
        // Streamed, hash and tokens both: a text of gigabytes costs no memory, only one read to hash.
        return Once(workDir, Path.GetFileNameWithoutExtension(full), SHA256.HashData(text), path => ByteTokenizer.WriteTokenFile(full, path));
    }

    private static string Once(string workDir, string name, byte[] digest, Func<string, long> write)
    {
        var tokenFile = Path.Combine(workDir, "tokens", $"{name}-{Convert.ToHexStringLower(digest)[..16]}.u16");
        if (!File.Exists(tokenFile))
        {
            write(tokenFile);
        }
        return tokenFile;
    }

    private static string Shipped()
    {
        using var stream = typeof(Corpus).Assembly.GetManifestResourceStream(ShippedText)
            ?? throw new InvalidOperationException($"resource {ShippedText} is missing from {typeof(Corpus).Assembly.Location}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
