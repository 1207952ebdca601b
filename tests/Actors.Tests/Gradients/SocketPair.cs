using System.Net;
using System.Net.Sockets;

namespace Orchestrator.Actors.Tests.Gradients;

/// <summary>Both ends of one TCP connection on 127.0.0.1.</summary>
internal sealed class SocketPair(TcpClient client, TcpClient accepted) : IDisposable
{
    public TcpClient Client { get; } = client;

    public TcpClient Accepted { get; } = accepted;

    public static async Task<SocketPair> ConnectAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        return new SocketPair(client, await listener.AcceptTcpClientAsync());
    }

    public void Dispose()
    {
        Client.Dispose();
        Accepted.Dispose();
    }
}
