using System.Security.Cryptography;

namespace Orchestrator.Actors.Job.Placement;

/// <summary>
/// The job's side of the check that every node sees the same checkpoint directory: a probe file with a fresh
/// token, which each node must read back (Cluster/SharedDirectory).
/// </summary>
public static class DirectoryProbe
{
    public const string FileName = ".orchestrator-probe";

    public static (string Path, string Token) Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var path = Path.Combine(directory, FileName);
        var temp = path + ".tmp";
        File.WriteAllText(temp, token);
        File.Move(temp, path, overwrite: true);
        return (path, token);
    }
}
