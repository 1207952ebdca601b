using Akka.Configuration;
using Akka.TestKit.Xunit2;
using Orchestrator.Actors.Cluster;
using Orchestrator.Actors.Persistence;

namespace Orchestrator.Actors.Tests.Cluster;

/// <summary>
/// The cluster's status (nodes, work dirs, steps, losses) is for holders of the secret, like submit, stop and
/// drain; a cluster without a secret answers anyone and says it is insecure.
/// </summary>
public sealed class CoordinatorStatusProofTests : TestKit
{
    private static readonly TempDirectory Temp = new();

    public CoordinatorStatusProofTests()
        : base(ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp.port = 0\nakka.cluster.seed-nodes = []")
            .WithFallback(JournalSettings.SqliteIn(Directory.CreateDirectory(Temp.Sub(Guid.NewGuid().ToString("N"))).FullName).ToConfig())
            .WithFallback(ClusterSettings.Defaults).WithFallback(OrchestratorSystem.Reference))
    {
    }

    [Theory]
    [InlineData("")]
    [InlineData("guess")]
    public async Task A_status_question_without_the_secret_is_refused(string clientSecret)
    {
        var coordinator = Coordinator("s3cret");

        coordinator.Tell(new GetClusterStatus(new ClusterCredentials(clientSecret, []).Prove(GetClusterStatus.ProofSubject)), TestActor);

        var refused = await ExpectMsgAsync<ClusterStatusRefused>(TimeSpan.FromSeconds(30));
        Assert.StartsWith("the client's cluster secret does not match", refused.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_status_question_with_the_secret_is_answered_and_the_cluster_is_not_insecure()
    {
        var coordinator = Coordinator("s3cret");

        coordinator.Tell(new GetClusterStatus(new ClusterCredentials("s3cret", []).Prove(GetClusterStatus.ProofSubject)), TestActor);

        var status = await ExpectMsgAsync<ClusterStatus>(TimeSpan.FromSeconds(30));
        Assert.False(status.Insecure);
        Assert.Equal(WireProtocol.Version, status.Protocol);
    }

    [Fact]
    public async Task A_cluster_without_a_secret_answers_anyone_and_says_it_is_insecure()
    {
        var coordinator = Coordinator("");

        coordinator.Tell(new GetClusterStatus(new ClusterCredentials("", []).Prove(GetClusterStatus.ProofSubject)), TestActor);

        Assert.True((await ExpectMsgAsync<ClusterStatus>(TimeSpan.FromSeconds(30))).Insecure);
    }

    private Akka.Actor.IActorRef Coordinator(string secret) =>
        Sys.ActorOf(ClusterCoordinator.Props(CreateTestProbe().Ref, new ClusterCredentials(secret, ClusterCredentials.From(Sys.Settings.Config).Settings)));
}
