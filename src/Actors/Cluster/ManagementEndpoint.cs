using System.Collections.Immutable;
using System.Net;
using System.Text;
using Akka.Actor;
using Akka.Cluster;
using Akka.Management.Cluster.Bootstrap;
using Akka.Management.Cluster.Bootstrap.ContactPoint;
using Akka.Management.Dsl;
using Newtonsoft.Json;

namespace Orchestrator.Actors.Cluster;

/// <summary>
/// The node's management port: <see cref="HealthRoutes"/> and <c>/bootstrap/seed-nodes</c>, the question
/// Cluster Bootstrap on other nodes asks ("which cluster are you in?"), answered in Akka.Management's own
/// JSON (its <see cref="HttpBootstrapJsonProtocol.SeedNodes"/>) so any Akka.Management bootstrap reads it.
/// </summary>
/// <remarks>
/// Served with <see cref="HttpListener"/> rather than Akka.Management's own HTTP server: that one runs on
/// Ceen.Httpd 0.9.9, and the only Ceen.Httpd this project can restore is 0.9.10, whose changed
/// <c>ListenAsync</c> makes Akka.Management's <c>Start()</c> fail with a MissingMethodException. Bootstrap
/// itself (discovery, probing, the join decision) is Akka.Management's, unchanged.
/// </remarks>
public sealed class ManagementEndpoint : IDisposable
{
    private readonly ActorSystem _system;
    private readonly HttpListener _listener = new();

    // Every address, whatever Host the request names: HttpListener refuses a request whose Host is not the
    // prefix's, and probes name the node by address (kubelet, other nodes' bootstrap) or by name alike.
    private ManagementEndpoint(ActorSystem system, int port)
    {
        _system = system;
        _listener.Prefixes.Add($"http://*:{port}/");
        _listener.Start();
        _ = Task.Run(Serve);
    }

    /// <summary>
    /// Serves the endpoint until the system terminates (so <c>/health/ready</c> says 503 through a leave),
    /// and tells Cluster Bootstrap the address it is reached at, which it needs before it starts.
    /// </summary>
    public static void Start(ActorSystem system, string hostname, int port)
    {
        var endpoint = new ManagementEndpoint(system, port);
        system.WhenTerminated.ContinueWith(_ => endpoint.Dispose(), TaskScheduler.Default);
        ClusterBootstrap.Get(system).Routes(ManagementRouteProviderSettings.Create(new Uri($"http://{hostname}:{port}/"), readOnly: true));
    }

    public void Dispose() => _listener.Close();

    private async Task Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            try
            {
                Answer(context);
            }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
            {
                // A prober that hung up: nothing to tell it.
            }
        }
    }

    private void Answer(HttpListenerContext context)
    {
        var response = context.Response;
        var self = Akka.Cluster.Cluster.Get(_system);
        var path = context.Request.Url?.AbsolutePath ?? "/";
        (int Code, string Body)? answer = context.Request.HttpMethod != "GET" ? (405, """{"error":"GET only"}""")
            : path == "/bootstrap/seed-nodes" ? (200, SeedNodes(self))
            : HealthRoutes.Answer(path, self.SelfMember.Status) ?? (404, $$"""{"error":"no route {{path}}: /health/alive, /health/ready or /bootstrap/seed-nodes"}""");
        var bytes = Encoding.UTF8.GetBytes(answer.Value.Body);
        response.StatusCode = answer.Value.Code;
        response.ContentType = "application/json";
        response.ContentLength64 = bytes.Length;
        response.OutputStream.Write(bytes);
        response.Close();
    }

    // The members a bootstrapping node may join: reachable ones that are up or on their way; none while this
    // node itself is on its way out, so nobody joins through a node that is leaving.
    private static string SeedNodes(Akka.Cluster.Cluster cluster)
    {
        var state = cluster.State;
        var leaving = cluster.SelfMember.Status is MemberStatus.Down or MemberStatus.Exiting or MemberStatus.Leaving or MemberStatus.Removed;
        var members = leaving ? [] : state.Members
            .Where(m => !state.Unreachable.Contains(m) && m.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Joining)
            .Select(m => new HttpBootstrapJsonProtocol.ClusterMember(m.UniqueAddress.Address, m.UniqueAddress.Uid, m.Status, m.Roles))
            .ToList();
        return JsonConvert.SerializeObject(new HttpBootstrapJsonProtocol.SeedNodes(cluster.SelfAddress, members.ToImmutableList()));
    }
}
