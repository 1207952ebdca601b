using Orchestrator.Actors.Protocol;
using Orchestrator.Trainer.Jobs.Loading;

namespace Orchestrator.Actors.Cluster;

/// <summary>
/// The node's side of the check that it sees the same checkpoint directory as the job: the job writes a probe
/// file with a fresh token (Job/Placement/DirectoryProbe), every node must read that token back. A node with
/// its own empty folder at the same path (a volume not mounted) fails it, which is the point.
/// </summary>
public static class SharedDirectory
{
    public static string? Problem(CheckDirectory check) => DirectoryProblem(check) ?? JobAssemblyProblem(check.JobAssembly);

    // A node that cannot load the job's code (not on the shared volume, or another build there) gets no ranks.
    private static string? JobAssemblyProblem(JobAssemblyRef? assembly)
    {
        if (assembly is null)
        {
            return null;
        }
        try
        {
            _ = JobResolver.Library(assembly);
            return null;
        }
        catch (ArgumentException e)
        {
            return $"cannot load the job's code: {e.Message}";
        }
    }

    private static string? DirectoryProblem(CheckDirectory check)
    {
        if (!Directory.Exists(check.Directory))
        {
            return $"cannot see checkpoint directory {check.Directory} (mount the shared volume at the same path on every node)";
        }
        try
        {
            return File.ReadAllText(check.ProbeFile).Trim() == check.Token
                ? null
                : $"checkpoint directory {check.Directory} is not the job's (a local folder, not the shared volume?); mount the shared volume at the same path on every node";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"cannot read checkpoint directory {check.Directory} ({e.Message}); mount the shared volume at the same path on every node, readable and writable";
        }
    }
}
