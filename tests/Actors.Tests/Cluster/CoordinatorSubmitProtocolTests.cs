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
        coordinator.Tell(GetClusterStatus.Instance, TestActor);
        Assert.Empty((await ExpectMsgAsync<ClusterStatus>(TimeSpan.FromSeconds(30))).Jobs);
    }

    [Fact]
    public void A_submit_as_an_older_client_sends_it_without_a_protocol_reads_as_protocol_0()
    {
        var submit = new SubmitJob(new JobSpec { Job = "mlp", WorkDir = "/w" }, "proof", WireProtocol.Version);
        var serializer = Sys.Serialization.FindSerializerFor(submit);
        var json = System.Text.Encoding.UTF8.GetString(serializer.ToBinary(submit));
        var older = Regex.Replace(json, ",\"Protocol\":\\{[^}]*\\}", ""); // Akka's JSON writes an int as {"$":"I4"}

        var back = (SubmitJob)serializer.FromBinary(System.Text.Encoding.UTF8.GetBytes(older), typeof(SubmitJob));

        Assert.DoesNotContain("Protocol", older, StringComparison.Ordinal);
        Assert.Equal(0, back.Protocol);
        Assert.Equal("proof", back.Proof);
        Assert.Equal("/w", back.Spec.WorkDir);
    }
}
