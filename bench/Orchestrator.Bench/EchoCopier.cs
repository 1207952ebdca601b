namespace Orchestrator.Bench;

/// <summary>
/// The plain copy a gradient-sync row is divided by: writes a step's bytes to the peer, which echoes them,
/// while reading them back, so neither side's buffer fills. Its sender is a thread of its own, as the
/// gradient link's writer is: a sender started per step on the thread pool waited for a worker each time,
/// which on one day's VM held a 1 MB copy to under 200 MB/s, below the link it is meant to bound.
/// </summary>
internal sealed class EchoCopier : IDisposable
{
    private readonly Stream _stream;
    private readonly byte[] _payload = new byte[1 << 20];
    private readonly byte[] _received = new byte[1 << 20];
    private readonly SemaphoreSlim _send = new(0);
    private readonly SemaphoreSlim _sent = new(0);
    private readonly Thread _sender;
    private long _bytes;
    private Exception? _failure;
    private volatile bool _disposed;

    public EchoCopier(Stream stream)
    {
        _stream = stream;
        Random.Shared.NextBytes(_payload);
        _sender = new Thread(SendLoop) { IsBackground = true, Name = "bench-echo-sender" };
        _sender.Start();
    }

    /// <summary>Sends <paramref name="bytes"/> and returns once all of them have come back.</summary>
    public void Copy(long bytes)
    {
        _bytes = bytes;
        _send.Release();
        for (var received = 0L; received < bytes;)
        {
            var read = _stream.Read(_received);
            received += read > 0 ? read : throw new InvalidOperationException("the gradient-sync peer closed the baseline socket");
        }
        _sent.Wait();
        if (_failure is { } failure)
        {
            throw new InvalidOperationException("the baseline copy's sender failed", failure);
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _send.Release();
        // A sender stuck in a write to a peer that stopped reading ends when the socket is closed after this.
        if (_sender.Join(TimeSpan.FromSeconds(10)))
        {
            _send.Dispose();
            _sent.Dispose();
        }
    }

    private void SendLoop()
    {
        while (true)
        {
            _send.Wait();
            if (_disposed)
            {
                return;
            }
            try
            {
                for (var sent = 0L; sent < _bytes; sent += _payload.Length)
                {
                    _stream.Write(_payload, 0, (int)Math.Min(_payload.Length, _bytes - sent));
                }
            }
            catch (Exception e)
            {
                _failure = e;
            }
            _sent.Release();
        }
    }
}
