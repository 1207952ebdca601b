namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// The host arrays of the last snapshot the writer finished with, handed out again to the next capture: a
/// copy into memory that is already mapped costs no page faults, and a fresh 300 MB array costs 75,000 of
/// them. Only a released snapshot's arrays come back, so no array is ever held by two live snapshots, and
/// only the latest release is kept, so the pool never holds more than one checkpoint's worth.
/// </summary>
public sealed class HostBufferPool
{
    private readonly Lock _gate = new();
    private Dictionary<int, Stack<byte[]>> _free = [];

    /// <summary>An array of exactly <paramref name="length"/> bytes with unspecified contents.</summary>
    public byte[] Rent(int length)
    {
        lock (_gate)
        {
            if (_free.TryGetValue(length, out var stack) && stack.TryPop(out var reused))
            {
                return reused;
            }
        }
        return GC.AllocateUninitializedArray<byte>(length);
    }

    /// <summary>Makes these arrays, whose snapshot nobody reads any more, the ones handed out next.</summary>
    public void ReturnAll(IEnumerable<byte[]> released)
    {
        var free = new Dictionary<int, Stack<byte[]>>();
        foreach (var buffer in released)
        {
            if (!free.TryGetValue(buffer.Length, out var stack))
            {
                free[buffer.Length] = stack = new Stack<byte[]>();
            }
            stack.Push(buffer);
        }
        lock (_gate)
        {
            _free = free;
        }
    }
}

/// <summary>
/// The arrays one snapshot took from the pool: rented while it is captured and copied, given back together
/// when the writer is finished with the snapshot.
/// </summary>
public sealed class SnapshotBuffers(HostBufferPool pool, bool inPlace = false)
{
    private readonly Lock _gate = new();
    private readonly List<byte[]> _rented = [];

    /// <summary>
    /// The snapshot is written before the tensors that only an optimizer step changes may change (its fence
    /// holds that step until the write is over), so a capture may hand the writer those tensors' own memory
    /// (<see cref="Tensors.HostTensor.View"/>) instead of copying them. What a forward pass changes is still
    /// copied.
    /// </summary>
    public bool InPlace => inPlace;

    public byte[] Rent(int length)
    {
        var buffer = pool.Rent(length);
        lock (_gate)
        {
            _rented.Add(buffer);
        }
        return buffer;
    }

    /// <summary>Stops tracking an array that the snapshot did not keep (it is left to the garbage collector).</summary>
    public void Forget(byte[] buffer)
    {
        lock (_gate)
        {
            _rented.Remove(buffer);
        }
    }

    /// <summary>Tracks an array allocated outright that the snapshot keeps.</summary>
    public void Keep(byte[] buffer)
    {
        lock (_gate)
        {
            _rented.Add(buffer);
        }
    }

    internal void ReturnToPool()
    {
        lock (_gate)
        {
            pool.ReturnAll(_rented);
            _rented.Clear();
        }
    }
}
