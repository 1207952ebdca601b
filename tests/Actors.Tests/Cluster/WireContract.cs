using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using Orchestrator.Actors.Cluster;
using Orchestrator.Actors.Gradients;
using Orchestrator.Actors.Job;
using Orchestrator.Actors.Protocol;
using Orchestrator.Trainer.Distributed;

namespace Orchestrator.Actors.Tests.Cluster;

/// <summary>
/// Everything nodes and clients of one cluster must read alike, written out as text: how gradients are cut
/// into chunks, the gradient link's frames byte for byte, the float-array serializer's and the step codec's
/// bytes for fixed messages, and the shape of every message record (JSON, by property name). A line that
/// changes is a change another build would misread.
/// </summary>
internal static class WireContract
{
    public static string Describe()
    {
        var lines = new List<string>
        {
            "# What another build must read alike, written by tests/Actors.Tests/Cluster/WireContractTests.cs.",
            "# A change here needs a new WireProtocol.Version (src/Actors/Cluster/WireProtocol.cs).",
            $"protocol {WireProtocol.Version}",
        };
        foreach (var total in new[] { 0, 1, 16384, 16385, 262144, 262145, 524289, 1_000_000, 26_214_400 })
        {
            lines.Add($"chunks of {total} floats: {Chunking.CountFor(total)}, stride {Chunking.StrideFor(total)}");
        }
        lines.Add("frame kinds: " + string.Join(", ", typeof(GradientFrames).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral).OrderBy(f => f.Name, StringComparer.Ordinal).Select(f => $"{f.Name} {(char)(byte)f.GetValue(null)!}")));
        lines.Add("frame: " + Convert.ToHexString(FrameBytes(new Frame(GradientFrames.Gradient, [1, 2, 3], new[] { 1.5f, -0f }))));
        lines.Add("hello header: " + Convert.ToHexString(GradientFrames.HelloFrame("token", "link").Header));
        lines.Add("step start header: " + Convert.ToHexString(StepMessageCodec.Encode(new ComputeGradients(3, 17, FaultKind.Hang, Alone: true, Through: 40))));
        lines.Add("step end header: " + Convert.ToHexString(StepMessageCodec.Encode(new StepApplied(3, 1, 17, 2, true, 0.125, 0.5, 64, 0.25))));
        var serializer = new FloatArrayMessageSerializer(null!); // identifier and manifests need no system
        lines.Add($"float-array serializer {serializer.Identifier}");
        foreach (var message in FloatArrayMessages)
        {
            lines.Add($"  {message.GetType().Name} {serializer.Manifest(message)}: {Convert.ToHexString(serializer.ToBinary(message))}");
        }
        lines.AddRange(MessageShapes());
        return string.Join('\n', lines) + "\n";
    }

    private static readonly object[] FloatArrayMessages =
    [
        new GradientChunk(7, 1, 9, 0, 2, 5, new[] { 1f, 2f, 3f }, 0.5, 64),
        new AveragedChunk(7, 9, 1, 2, 5, new[] { 4f, 5f }, 128),
        new BuffersExported(7, 1, 9, [6f]),
        new ImportBuffers(7, 9, [6f]),
    ];

    /// <summary>The bytes a <see cref="FrameConnection"/> puts on its socket for <paramref name="frame"/>.</summary>
    private static byte[] FrameBytes(Frame frame)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        client.Connect((IPEndPoint)listener.LocalEndpoint);
        using var accepted = listener.AcceptTcpClient();
        using var connection = new FrameConnection(client);
        connection.Send(frame);
        var bytes = new byte[9 + frame.Header.Length + (frame.Values.Count * sizeof(float))];
        accepted.GetStream().ReadExactly(bytes);
        return bytes;
    }

    // Every public record of the Actors assembly but the journals' events (a contract of their own, read
    // back by every later version) and settings (never sent), every message singleton, and the types
    // their properties hold, of this project's assemblies.
    private static IEnumerable<string> MessageShapes()
    {
        var roots = typeof(WireProtocol).Assembly.GetExportedTypes()
            .Where(t => IsRecord(t) || t.GetField("Instance", BindingFlags.Public | BindingFlags.Static)?.FieldType == t)
            .Where(t => !typeof(JobEvent).IsAssignableFrom(t) && !typeof(CoordinatorEvent).IsAssignableFrom(t) && !t.Name.EndsWith("Settings", StringComparison.Ordinal));
        var pending = new Queue<Type>(roots);
        var described = new SortedDictionary<string, string>(StringComparer.Ordinal);
        while (pending.TryDequeue(out var type))
        {
            if (described.ContainsKey(type.FullName!))
            {
                continue;
            }
            described[type.FullName!] = Shape(type);
            foreach (var held in type.IsEnum ? [] : Properties(type).SelectMany(p => Mentioned(p.PropertyType)))
            {
                pending.Enqueue(held);
            }
        }
        return described.Values;
    }

    private static string Shape(Type type)
    {
        if (type.IsEnum)
        {
            return $"enum {type.FullName}: " + string.Join(", ", Enum.GetNames(type).Select(n => $"{n} {Convert.ToInt64(Enum.Parse(type, n), System.Globalization.CultureInfo.InvariantCulture)}"));
        }
        var properties = Properties(type).OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => $"{p.Name}: {Name(p.PropertyType)}");
        return $"{type.FullName}({string.Join(", ", properties)})";
    }

    // What JSON writes: every public property with a public getter.
    private static IEnumerable<PropertyInfo> Properties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetMethod is { IsPublic: true } && p.GetIndexParameters().Length == 0);

    private static bool IsRecord(Type type) => type.GetMethod("<Clone>$") is not null;

    /// <summary>The types of this project's assemblies inside <paramref name="type"/> (itself, array elements, generic arguments).</summary>
    private static IEnumerable<Type> Mentioned(Type type)
    {
        if (type.IsArray)
        {
            return Mentioned(type.GetElementType()!);
        }
        var own = type.Assembly.GetName().Name!.StartsWith("Orchestrator", StringComparison.Ordinal) ? [type] : Array.Empty<Type>();
        return type.IsGenericType ? own.Concat(type.GetGenericArguments().SelectMany(Mentioned)) : own;
    }

    private static string Name(Type type)
    {
        if (type.IsArray)
        {
            return Name(type.GetElementType()!) + "[]";
        }
        if (!type.IsGenericType)
        {
            return type.Name;
        }
        var generic = new StringBuilder(type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)]);
        return generic.Append('<').AppendJoin(", ", type.GetGenericArguments().Select(Name)).Append('>').ToString();
    }
}
