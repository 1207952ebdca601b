using Orchestrator.Actors.Protocol;
using Orchestrator.Trainer.Distributed;

namespace Orchestrator.Actors.Gradients;

/// <summary>
/// The two messages that start and end a remote rank's step (<see cref="ComputeGradients"/> and
/// <see cref="StepApplied"/>) as gradient-link frame headers: on 127.0.0.1 an Akka.Remote message took
/// about as long as a megabyte of gradients on the link, and a step needs two.
/// </summary>
internal static class StepMessageCodec
{
    public static byte[] Encode(ComputeGradients compute)
    {
        using var header = new MemoryStream(32);
        using (var writer = new BinaryWriter(header))
        {
            writer.Write(compute.Generation); writer.Write(compute.Step);
            writer.Write(compute.Fault is { } fault ? (byte)((int)fault + 1) : (byte)0);
            writer.Write(compute.Alone); writer.Write(compute.Through);
        }
        return header.ToArray();
    }

    public static byte[] Encode(StepApplied applied)
    {
        using var header = new MemoryStream(64);
        using (var writer = new BinaryWriter(header))
        {
            writer.Write(applied.Generation); writer.Write(applied.Rank); writer.Write(applied.Step); writer.Write(applied.Epoch);
            writer.Write(applied.EpochEnded); writer.Write(applied.LearningRate); writer.Write(applied.Loss); writer.Write(applied.Samples);
            writer.Write(applied.Seconds); writer.Write(applied.SaveRequested); writer.Write(applied.RingSeconds);
        }
        return header.ToArray();
    }

    /// <summary>Throws InvalidDataException for a header this codec did not write (the link is then closed).</summary>
    public static ComputeGradients DecodeCompute(byte[] header) => Decode(header, "step start", reader =>
    {
        var (generation, step, fault) = (reader.ReadInt32(), reader.ReadInt64(), reader.ReadByte());
        var (alone, through) = (reader.ReadBoolean(), reader.ReadInt64());
        if (fault > 0 && !Enum.IsDefined((FaultKind)(fault - 1)))
        {
            throw new InvalidDataException($"a step start names fault kind {fault - 1}, which does not exist");
        }
        return new ComputeGradients(generation, step, fault == 0 ? null : (FaultKind)(fault - 1), alone, through);
    });

    public static StepApplied DecodeApplied(byte[] header) => Decode(header, "step end", reader =>
    {
        var (generation, rank, step, epoch) = (reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt64(), reader.ReadInt64());
        var (epochEnded, rate, loss, samples) = (reader.ReadBoolean(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadInt64());
        var (seconds, saveRequested, ringSeconds) = (reader.ReadDouble(), reader.ReadBoolean(), reader.ReadDouble());
        return new StepApplied(generation, rank, step, epoch, epochEnded, rate, loss, samples, seconds, saveRequested, ringSeconds);
    });

    private static T Decode<T>(byte[] header, string what, Func<BinaryReader, T> read)
    {
        using var reader = new BinaryReader(new MemoryStream(header, writable: false));
        T message;
        try
        {
            message = read(reader);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"a {what} frame of {header.Length} header bytes is too short (corrupt, or not from this version)");
        }
        return reader.BaseStream.Position == header.Length
            ? message
            : throw new InvalidDataException($"a {what} frame has {header.Length - reader.BaseStream.Position} bytes after its fields (corrupt, or not from this version)");
    }
}
