using System.Buffers;
using Orchestrator.Trainer.Data;

namespace Orchestrator.Trainer.Interop;

/// <summary>
/// A range of a mapped file as <see cref="Memory{T}"/>: a tensor's bytes where they lie in the file, so a
/// load copies them once, into the model, and the page cache rather than the process holds the file.
/// Valid until the file is disposed; after that a read throws instead of touching unmapped memory.
/// </summary>
internal sealed class MappedRegion(MappedFile file, long offset, int length) : MemoryManager<byte>
{
    public override unsafe Span<byte> GetSpan()
    {
        var bytes = file.Slice(offset, length);
        fixed (byte* start = bytes)
        {
            return new Span<byte>(start, length); // mapped memory never moves: the pointer outlives the fixed block
        }
    }

    public override unsafe MemoryHandle Pin(int elementIndex = 0)
    {
        var bytes = file.Slice(offset, length);
        fixed (byte* start = bytes)
        {
            return new MemoryHandle(start + elementIndex, pinnable: this);
        }
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        // The mapping belongs to the state_dict file, which unmaps it once the load is over.
    }
}
