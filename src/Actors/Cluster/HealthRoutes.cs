using Akka.Cluster;

namespace Orchestrator.Actors.Cluster;

/// <summary>
/// The node's health on its management port, for probes (Kubernetes, Compose): <c>/health/alive</c> answers
/// 200 while the node runs, whatever its membership; <c>/health/ready</c> answers 200 only while the node is
/// an Up member, and 503 while it is still joining, leaving or gone from the cluster. Both say the member
/// status in a small JSON body. (Akka.Management for .NET has no health routes of its own.)
/// </summary>
public static class HealthRoutes
{
    public const string AlivePath = "/health/alive";
    public const string ReadyPath = "/health/ready";

    /// <summary>Whether a node whose own member status is <paramref name="status"/> takes work.</summary>
    public static bool IsReady(MemberStatus status) => status == MemberStatus.Up;

    /// <summary>The HTTP status and body for <paramref name="path"/>, or null for a path that is not a health route.</summary>
    public static (int Code, string Body)? Answer(string path, MemberStatus status)
    {
        var body = $$"""{"ready":{{(IsReady(status) ? "true" : "false")}},"member":"{{status}}"}""";
        return path switch
        {
            AlivePath => (200, body),
            ReadyPath => (IsReady(status) ? 200 : 503, body),
            _ => null,
        };
    }
}
