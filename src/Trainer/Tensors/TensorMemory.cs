using System.Buffers;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tensors;

/// <summary>
/// A contiguous CPU tensor's storage as <see cref="Memory{T}"/>, so a writer can read it where it lies. It
/// keeps the tensor reachable, so the collector cannot finalize it while the view lives; that nothing frees
/// it or writes to it meanwhile is the caller's to ensure.
/// </summary>
internal sealed unsafe class TensorMemory : MemoryManager<byte>
{
    private readonly Tensor _tensor;
    private readonly nint _address;
    private readonly int _length;

    public TensorMemory(Tensor tensor)
    {
        _tensor = tensor;
        var bytes = tensor.bytes;
        _address = HostTensor.AddressOf(bytes);
        _length = bytes.Length;
    }

    public override Span<byte> GetSpan() => new((void*)_address, _length);

    // The storage is native memory: it never moves, so pinning has nothing to do.
    public override MemoryHandle Pin(int elementIndex = 0) => new((byte*)_address + elementIndex, pinnable: this);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        // The tensor belongs to the model or the optimizer, not to this view.
    }
}
