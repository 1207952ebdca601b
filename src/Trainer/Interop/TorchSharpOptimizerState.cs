using System.Buffers.Binary;
using System.Text;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Tensors;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Interop;

/// <summary>
/// A checkpoint's <c>optimizer.bin</c> read without TorchSharp: the layout of TorchSharp 0.107's
/// <c>OptimizerHelper.save_state_dict</c>, which <see cref="OptimizerCheckpointable"/> writes. That is the type
/// name, the counts of parameter groups and of per-parameter states (LEB128), each group's options (initial
/// and current learning rate, then the optimizer's own), then each parameter's state in the optimizer's
/// parameter order. Tensors are slices of the blob, not copies. Adam, AdamW and SGD are read; the blob was
/// verified against the manifest's hash, but its lengths are still checked against its size.
/// </summary>
internal sealed record TorchSharpOptimizerState(string Type, IReadOnlyList<OptimizerGroup> Groups, IReadOnlyList<IReadOnlyList<KeyValuePair<string, HostTensor>>> States)
{
    public static readonly IReadOnlyList<string> Supported = ["Adam", "AdamW", "SGD"];

    /// <summary>The optimizer's type name as recorded, read before anything else (for a refusal that names it).</summary>
    public static string TypeOf(byte[] blob)
    {
        var reader = new BlobReader(blob);
        return reader.String();
    }

    public static TorchSharpOptimizerState Parse(byte[] blob)
    {
        var reader = new BlobReader(blob);
        var type = reader.String();
        if (!Supported.Contains(type))
        {
            throw new ExportException($"the checkpoint's optimizer is {PrintableText.Escape(type)}; --with-optimizer exports {string.Join(", ", Supported)} state only (export without --with-optimizer)");
        }
        var groupCount = reader.Leb128();
        var stateCount = reader.Leb128();
        if (groupCount > blob.Length || stateCount > blob.Length)
        {
            throw new InvalidDataException($"the optimizer state claims {groupCount} groups and {stateCount} states in {blob.Length} bytes");
        }
        var groups = new List<OptimizerGroup>();
        for (var g = 0; g < groupCount; g++)
        {
            var initial = reader.Double();
            var rate = reader.Double();
            groups.Add(type == "SGD"
                ? new OptimizerGroup(initial, rate, Momentum: reader.Double(), Dampening: reader.Double(), WeightDecay: reader.Double(), Nesterov: reader.Bool(), Maximize: reader.Bool())
                : new OptimizerGroup(initial, rate, Beta1: reader.Double(), Beta2: reader.Double(), Eps: reader.Double(), WeightDecay: reader.Double(), Amsgrad: reader.Bool(), Maximize: reader.Bool()));
        }
        var states = new List<IReadOnlyList<KeyValuePair<string, HostTensor>>>();
        for (var s = 0; s < stateCount; s++)
        {
            var state = new List<KeyValuePair<string, HostTensor>>();
            if (type == "SGD")
            {
                if (reader.Bool())
                {
                    state.Add(new("momentum_buffer", reader.Tensor()));
                }
            }
            else
            {
                // PyTorch keeps Adam's step as a float32 scalar tensor; TorchSharp as a long.
                var step = reader.Int64();
                var stepBytes = new byte[4];
                BinaryPrimitives.WriteSingleLittleEndian(stepBytes, step);
                state.Add(new("step", new HostTensor(ScalarType.Float32, [], stepBytes)));
                state.Add(new("exp_avg", reader.Tensor()));
                state.Add(new("exp_avg_sq", reader.Tensor()));
                if (reader.Bool())
                {
                    state.Add(new("max_exp_avg_sq", reader.Tensor()));
                }
            }
            states.Add(state);
        }
        if (!reader.AtEnd)
        {
            throw new InvalidDataException($"{blob.Length - reader.Position} bytes follow the optimizer's state");
        }
        return new TorchSharpOptimizerState(type, groups, states);
    }

    private sealed class BlobReader(byte[] blob)
    {
        public int Position { get; private set; }

        public bool AtEnd => Position == blob.Length;

        private ReadOnlySpan<byte> Take(long count)
        {
            if (count < 0 || count > blob.Length - Position)
            {
                throw new InvalidDataException($"the optimizer state is cut short at byte {Position} (needs {count} more)");
            }
            var span = blob.AsSpan(Position, (int)count);
            Position += (int)count;
            return span;
        }

        public string String()
        {
            long length = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = Take(1)[0];
                length |= (long)(b & 0x7f) << shift;
                if ((b & 0x80) == 0)
                {
                    break;
                }
                if (shift >= 28)
                {
                    throw new InvalidDataException("the optimizer's type name has a malformed length");
                }
            }
            return Encoding.UTF8.GetString(Take(length));
        }

        public long Leb128()
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = Take(1)[0];
                value |= (ulong)(b & 0x7f) << shift;
                if ((b & 0x80) == 0)
                {
                    return (long)value;
                }
            }
            throw new InvalidDataException("the optimizer state has a malformed length field");
        }

        public double Double() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

        public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

        public bool Bool() => Take(1)[0] != 0;

        /// <summary>TorchSharp's <c>Tensor.Save</c>: dtype, rank, dimensions (LEB128), raw bytes.</summary>
        public HostTensor Tensor()
        {
            var dtype = (ScalarType)Leb128();
            var rank = Leb128();
            if (rank is < 0 or > 64)
            {
                throw new InvalidDataException($"an optimizer tensor has an impossible rank {rank}");
            }
            var shape = new long[rank];
            long elements = 1;
            for (var d = 0; d < rank; d++)
            {
                shape[d] = Leb128();
                if (shape[d] < 0 || shape[d] > blob.Length)
                {
                    throw new InvalidDataException($"an optimizer tensor has an impossible dimension {shape[d]}");
                }
                elements = checked(elements * shape[d]);
            }
            var size = checked(elements * TensorFile.ElementSize(dtype));
            var start = Position;
            Take(size);
            return new HostTensor(dtype, shape, blob.AsMemory(start, (int)size));
        }
    }
}

/// <summary>One parameter group's options: Adam's and AdamW's (betas, eps, amsgrad) or SGD's (momentum, dampening, nesterov).</summary>
internal sealed record OptimizerGroup(
    double InitialLearningRate,
    double LearningRate,
    double Beta1 = 0,
    double Beta2 = 0,
    double Eps = 0,
    double WeightDecay = 0,
    bool Amsgrad = false,
    bool Maximize = false,
    double Momentum = 0,
    double Dampening = 0,
    bool Nesterov = false);
