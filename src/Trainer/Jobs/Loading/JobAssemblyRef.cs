using System.Security.Cryptography;

namespace Orchestrator.Trainer.Jobs.Loading;

/// <summary>
/// Which file a user's job comes from: its absolute path and the SHA-256 of its bytes when the job was
/// submitted. Recorded in the journal and in every checkpoint, so a resume, a rank restart and every node of
/// a cluster run exactly that code or refuse.
/// </summary>
public sealed record JobAssemblyRef(string Path, string Sha256)
{
    /// <summary>The file as it is now (the path made absolute); one line naming the problem if it cannot be read.</summary>
    public static JobAssemblyRef Of(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        return new JobAssemblyRef(full, HashOf(JobAssemblyFile.Read(full)));
    }

    public static string HashOf(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public string ShortSha256() => Sha256[..Math.Min(12, Sha256.Length)];
}
