using System.Text.RegularExpressions;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using Orchestrator.Actors.Cluster;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Persistence;

namespace Orchestrator.Actors.Tests.Cluster;

/// <summary>
/// A submit from an orchestrator of another wire protocol is refused before anything is recorded: the job
/// spec it sends may hold fields this version would drop without a word.
/// </summary>
public sealed class CoordinatorSubmitProtocolTests : TestKit
{
    private static readonly TempDirectory Temp = new();

    public CoordinatorSubmitProtocolTests()
        : base(ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp.port = 0\nakka.cluster.seed-nodes = []")
            .WithFallback(JournalSettings.SqliteIn(Directory.CreateDirectory(Temp.Sub(Guid.NewGuid().ToString("N"))).FullName).ToConfig())
            .WithFallback(ClusterSettings.Defaults).WithFallback(OrchestratorSystem.Reference))
    {
    }

    [Theory]
    [InlineData(3, "the submitting orchestrator speaks wire protocol 3 but the cluster speaks")]
    [InlineData(0, "the submitting orchestrator speaks an older wire protocol than the cluster's")]
    public async Task A_submit_of_another_protocol_is_refused_naming_both_and_starts_no_job(int protocol, string reason)
    {
        var credentials = ClusterCredentials.From(Sys.Settings.Config);
        var coordinator = Sys.ActorOf(ClusterCoordinator.Props(CreateTestProbe().Ref, credentials));
        var spec = new JobSpec { Job = "mlp", WorkDir = Temp.Sub("job"), Steps = 10 };

        coordinator.Tell(new SubmitJob(spec, credentials.Prove(spec.WorkDir), protocol), TestActor);

        var answer = await ExpectMsgAsync<SubmitAnswer>(TimeSpan.FromSeconds(30));
        Assert.False(answer.Accepted);
        Assert.Equal($"{reason} {WireProtocol.Version}: its orchestrator is another version (run the same orchestrator version on every node and client)", answer.Message);
        coordinator.Tell(new GetClusterStatus(credentials.Prove(GetClusterStatus.ProofSubject)), TestActor);
        var status = await ExpectMsgAsync<ClusterStatus>(TimeSpan.FromSeconds(30));
        Assert.Empty(status.Jobs);
        Assert.Equal(WireProtocol.Version, status.Protocol); // what a client of this version checks before it submits
    }

    [Fact]
    public void A_submit_as_an_older_client_sends_it_without_a_protocol_reads_as_protocol_0()
    {
        var back = AsOlderBuildSendsIt(new SubmitJob(new JobSpec { Job = "mlp", WorkDir = "/w" }, "proof", WireProtocol.Version));

        Assert.Equal(0, back.Protocol);
        Assert.Equal("proof", back.Proof);
        Assert.Equal("/w", back.Spec.WorkDir);
    }

    [Fact]
    public void A_status_as_an_older_coordinator_sends_it_without_a_protocol_reads_as_protocol_0()
    {
        var back = AsOlderBuildSendsIt(new ClusterStatus([new NodeStatus("akka.tcp://orchestrator@h:1", "up", ["cpu"], null)], [], WireProtocol.Version));

        Assert.Equal(0, back.Protocol);
        Assert.Equal("up", Assert.Single(back.Nodes).Status);
    }

    /// <summary><paramref name="message"/> through the node's JSON serializer with its Protocol property taken out.</summary>
    private T AsOlderBuildSendsIt<T>(T message)
        where T : class
    {
        var serializer = Sys.Serialization.FindSerializerFor(message);
        var json = System.Text.Encoding.UTF8.GetString(serializer.ToBinary(message));
        var older = Regex.Replace(json, ",\"Protocol\":\\{[^}]*\\}", ""); // Akka's JSON writes an int as {"$":"I4"}
        Assert.DoesNotContain("Protocol", older, StringComparison.Ordinal);
        return (T)serializer.FromBinary(System.Text.Encoding.UTF8.GetBytes(older), typeof(T));
    }
}
