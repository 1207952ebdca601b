using System.Net.Sockets;

namespace Orchestrator.Actors.Gradients;

/// <summary>The gradient hub's and a ring rank's listener: every connection served on a pool thread until the listener stops.</summary>
internal static class TcpAcceptLoop
{
    public static async Task Run(TcpListener listener, Action<TcpClient> serve)
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return; // stopped
            }
            _ = Task.Run(() => serve(client));
        }
    }
}
