using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Metrics;

/// <summary>The /metrics endpoint of a running train, scraped over HTTP on 127.0.0.1 as Prometheus would.</summary>
public sealed class PrometheusTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task A_running_job_serves_step_loss_checkpoint_and_rank_metrics()
    {
        var port = NodeProcess.FreePort();
        using var running = CliProcess.Start(CliProcess.Train("cnn", _temp.Sub("run"), 100_000, every: 20, more: ["--ranks", "2", "--metrics-port", port.ToString(CultureInfo.InvariantCulture)]));
        await running.WaitForLineAsync(line => line.StartsWith("checkpoint iter_40", StringComparison.Ordinal));

        using var http = new HttpClient();
        var text = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", running.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        var stopped = running.WaitForExit();

        Assert.True(Value(text, "orchestrator_step") >= 40);
        Assert.True(Value(text, "orchestrator_last_committed_step") >= 40);
        Assert.Equal(2, Value(text, "orchestrator_ranks_alive"));
        Assert.True(Value(text, "orchestrator_checkpoint_bytes") > 10_000);
        Assert.True(Value(text, "orchestrator_loss") > 0);
        Assert.True(Value(text, "orchestrator_samples_per_second") > 0);
        Assert.InRange(Value(text, "orchestrator_gradient_sync_seconds"), 1e-7, 10);
        Assert.Equal(130, stopped.ExitCode);
    }

    [Fact]
    public void A_port_that_is_taken_is_refused_in_one_line()
    {
        var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var result = CliProcess.Run(CliProcess.Train("mlp", _temp.Sub("run"), 10, more: ["--metrics-port", port.ToString(CultureInfo.InvariantCulture)]));
        taken.Stop();

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"error: cannot serve metrics on 127.0.0.1:{port} (", result.Error.Trim());
    }

    private static double Value(string metrics, string name)
    {
        var match = Regex.Match(metrics, $"^{name}\\{{job=\"cnn\"\\}} (\\S+)$", RegexOptions.Multiline);
        Assert.True(match.Success, $"{name} not in /metrics:\n{metrics}");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }
}
