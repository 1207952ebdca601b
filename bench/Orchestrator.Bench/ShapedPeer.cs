using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Orchestrator.Actors.Gradients;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Runtime;

namespace Orchestrator.Bench;

/// <summary>What one process of a shaped row does alone, with no cluster and no actors.</summary>
internal enum ShapedPeerWork
{
    /// <summary>A plain TCP copy to the next namespace while reading the previous one's: what the links carry.</summary>
    Copy,

    /// <summary>The ranks' ring all-reduce (<see cref="RingMember"/>) of one step's gradients, and nothing else.</summary>
    Ring,

    /// <summary>The mlp job's forward, backward and Adam step on this rank's shard, and no synchronisation.</summary>
    Compute,
}

/// <summary>
/// One process of a shaped row's parts, run in its own namespace by <see cref="ShapedParts"/>:
/// <c>--shaped-peer WORK RANK WORLD HOST SIZE WARMUP MEASURED</c> (SIZE: bytes to copy, floats to reduce, or
/// the mlp's width). It prints <c>listening HOST:PORT</c> (copy and ring) and is told <c>next HOST:PORT</c>;
/// then takes its untimed rounds, prints <c>ready</c>, waits for <c>go</c>, and prints <c>done SECONDS</c>
/// for its timed rounds, and ends at the next line (<c>end</c>). Orders come on standard input, so every
/// process of a row starts its timed rounds together and none ends while another still reads from it.
/// </summary>
internal static class ShapedPeer
{
    public const string Flag = "--shaped-peer";

    public static string[] Arguments(ShapedPeerWork work, int rank, int world, string host, long size, int warmUp, int measured) =>
        [Flag, work.ToString(), $"{rank}", $"{world}", host, $"{size}", $"{warmUp}", $"{measured}"];

    public static int Run(string[] args)
    {
        var work = Enum.Parse<ShapedPeerWork>(args[1]);
        var (rank, world, host) = (int.Parse(args[2], CultureInfo.InvariantCulture), int.Parse(args[3], CultureInfo.InvariantCulture), args[4]);
        var size = long.Parse(args[5], CultureInfo.InvariantCulture);
        var (warmUp, measured) = (int.Parse(args[6], CultureInfo.InvariantCulture), int.Parse(args[7], CultureInfo.InvariantCulture));
        Action round = work switch
        {
            ShapedPeerWork.Copy => CopyRound(host, size),
            ShapedPeerWork.Ring => RingRound(rank, world, host, (int)size),
            _ => ComputeRound(rank, world, (int)size),
        };
        for (var i = 0; i < warmUp; i++)
        {
            round();
        }
        Say("ready");
        if (Console.ReadLine() != "go")
        {
            return 2;
        }
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < measured; i++)
        {
            round();
        }
        Say($"done {clock.Elapsed.TotalSeconds.ToString("R", CultureInfo.InvariantCulture)}");
        // Open until every process is done: one that ended early would close a link another still reads.
        Console.ReadLine();
        return 0;
    }

    private static void Say(string line)
    {
        Console.Out.WriteLine(line);
        Console.Out.Flush();
    }

    /// <summary>The next namespace's address, once every process of the row has said where it listens.</summary>
    private static string NextEndpoint()
    {
        var line = Console.ReadLine() ?? throw new InvalidOperationException("the benchmark closed this peer's input");
        return line.StartsWith("next ", StringComparison.Ordinal) ? line[5..] : throw new InvalidOperationException($"expected 'next HOST:PORT', got '{line}'");
    }

    private static Action CopyRound(string host, long bytes)
    {
        var listener = new TcpListener(IPAddress.Parse(host), 0);
        listener.Start();
        Say($"listening {host}:{((IPEndPoint)listener.LocalEndpoint).Port}");
        var next = NextEndpoint().Split(':');
        var outgoing = new TcpClient { NoDelay = true };
        outgoing.Connect(next[0], int.Parse(next[1], CultureInfo.InvariantCulture));
        var incoming = listener.AcceptTcpClient();
        var (send, receive) = (outgoing.GetStream(), incoming.GetStream());
        var payload = new byte[1 << 20];
        var buffer = new byte[1 << 20];
        Random.Shared.NextBytes(payload);
        return () =>
        {
            // The send on a thread of its own, so both directions of every link carry bytes at once, as in a ring.
            var sender = new Thread(() =>
            {
                for (var left = bytes; left > 0; left -= payload.Length)
                {
                    send.Write(payload, 0, (int)Math.Min(left, payload.Length));
                }
            });
            sender.Start();
            for (var received = 0L; received < bytes;)
            {
                // Never past this round's bytes: the next round's may already be on their way.
                var read = receive.Read(buffer, 0, (int)Math.Min(buffer.Length, bytes - received));
                received += read > 0 ? read : throw new InvalidOperationException("the previous namespace closed its copy");
            }
            sender.Join();
        };
    }

    private static Action RingRound(int rank, int world, string host, int floats)
    {
        var values = new float[floats];
        var random = new Random(rank);
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)random.NextDouble();
        }
        var listener = new RingListener(host, tls: null);
        Say($"listening {listener.Endpoint}");
        var join = new RingJoin("shaped-bench", 1, rank, world, NextEndpoint(), TimeSpan.FromMinutes(2), GradientWireType.Fp32);
        var member = RingMember.Join(listener, join, tls: null, CancellationToken.None);
        var step = 0L;
        return () => member.AllReduce(step++, values, 0, 1);
    }

    private static Action ComputeRound(int rank, int world, int width)
    {
        // As a node process: its allocator settings, one torch thread, this rank's shard of the data.
        NativeMemoryTuning.Apply();
        DeterministicRuntime.Configure(1, 1);
        var size = new ModelSize($"width {width}", width);
        var job = JobCatalog.Factory(MlpJob.Name, size.Options with { Rank = rank, Ranks = world })();
        return OverheadBenchmark.StepOf(job);
    }
}
