using Orchestrator.Actors.Cluster;

namespace Orchestrator.Actors.Tests.Cluster;

public sealed class WireProtocolTests
{
    [Fact]
    public void A_cluster_of_this_protocol_has_no_problem()
    {
        Assert.Null(WireProtocol.ClusterProblem(WireProtocol.Version));
    }

    [Fact]
    public void A_cluster_of_another_protocol_is_named_with_both_versions()
    {
        Assert.Equal(
            $"the cluster speaks wire protocol {WireProtocol.Version + 1} but this orchestrator speaks {WireProtocol.Version}: its nodes run another orchestrator version (run the same orchestrator version on every node and client)",
            WireProtocol.ClusterProblem(WireProtocol.Version + 1));
    }

    [Fact]
    public void A_cluster_whose_status_carries_no_protocol_is_older()
    {
        Assert.StartsWith($"the cluster speaks an older wire protocol than this orchestrator's {WireProtocol.Version}: ", WireProtocol.ClusterProblem(0), StringComparison.Ordinal);
    }
}
