using System.Diagnostics;
using System.Globalization;

namespace Orchestrator.Bench;

/// <summary>
/// The namespaces, veths and bridge of one shaped run: namespace i (orring{i}, 10.77.0.{i+1}) joined to the
/// bridge orbr0 by the veth pair orv{i} / orv{i}n, each end shaped with <c>tc tbf</c>, so every node's link
/// is held to the rate both ways. All of it is this benchmark's own and is removed on dispose, whatever
/// happened (and first, in case a killed earlier run left some).
/// </summary>
internal sealed class ShapedNetwork : IDisposable
{
    private const string Bridge = "orbr0";
    // Above any world this benchmark makes, so a dispose also clears what a larger earlier run left.
    private const int MostNamespaces = 16;
    private readonly int _world;

    private ShapedNetwork(int world) => _world = world;

    /// <summary>The rate every link is held to now, in bits per second.</summary>
    public double BitsPerSecond { get; private set; }

    public static ShapedNetwork Create(int world, double bitsPerSecond)
    {
        var network = new ShapedNetwork(world);
        network.Dispose();
        try
        {
            Ip("link add", Bridge, "type bridge");
            Ip("link set", Bridge, "up");
            for (var i = 0; i < world; i++)
            {
                var (ns, host, inside) = (Namespace(i), HostEnd(i), InsideEnd(i));
                Ip("netns add", ns);
                Ip("link add", host, "type veth peer name", inside);
                Ip("link set", inside, "netns", ns);
                Ip("link set", host, "master", Bridge, "up");
                Ip("netns exec", ns, "ip addr add", $"{Address(i)}/24", "dev", inside);
                Ip("netns exec", ns, "ip link set", inside, "up");
                Ip("netns exec", ns, "ip link set lo up");
            }
            network.Shape(bitsPerSecond);
        }
        catch
        {
            network.Dispose();
            throw;
        }
        return network;
    }

    public static string Namespace(int index) => $"orring{index}";

    public static string Address(int index) => $"10.77.0.{index + 1}";

    /// <summary>
    /// Holds every link to <paramref name="bitsPerSecond"/> each way: out of a namespace on its own end, into
    /// it on the bridge's end. The bucket holds 8 ms at the rate (1 MB at 1 Gbit/s, 10 MB at 10): it must
    /// hold more than the kernel's timer lets through between two refills, or the rate reached falls short of
    /// the one set (the calibration rows show what each rate reaches).
    /// </summary>
    public void Shape(double bitsPerSecond)
    {
        var rate = $"{bitsPerSecond / 1e6:0}mbit";
        var burst = $"{bitsPerSecond * 0.008 / 8 / 1e3:0}kb";
        for (var i = 0; i < _world; i++)
        {
            Run("tc", $"qdisc replace dev {HostEnd(i)} root tbf rate {rate} burst {burst} latency 50ms");
            Run("ip", $"netns exec {Namespace(i)} tc qdisc replace dev {InsideEnd(i)} root tbf rate {rate} burst {burst} latency 50ms");
        }
        BitsPerSecond = bitsPerSecond;
    }

    public static string Described(double bitsPerSecond) => $"{(bitsPerSecond / 1e9).ToString("0.##", CultureInfo.InvariantCulture)} Gbit/s";

    public void Dispose() => RemoveAll(Math.Max(_world, MostNamespaces));

    /// <summary>Removes every namespace, veth and bridge this benchmark makes, whichever run made them.</summary>
    public static void RemoveAll(int namespaces = MostNamespaces)
    {
        for (var i = 0; i < namespaces; i++)
        {
            Run("ip", $"netns del {Namespace(i)}", quiet: true); // removes the veth pair with it
            Run("ip", $"link del {HostEnd(i)}", quiet: true);
        }
        Run("ip", $"link del {Bridge}", quiet: true);
    }

    private static string HostEnd(int index) => $"orv{index}";

    private static string InsideEnd(int index) => $"orv{index}n";

    private static void Ip(params string[] parts) => Run("ip", string.Join(' ', parts));

    private static void Run(string program, string arguments, bool quiet = false)
    {
        var start = new ProcessStartInfo(program, arguments) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0 && !quiet)
        {
            throw new InvalidOperationException($"{program} {arguments} failed ({process.ExitCode}): {errors.Trim()} (the shaped rows need root, ip and tc)");
        }
    }
}
