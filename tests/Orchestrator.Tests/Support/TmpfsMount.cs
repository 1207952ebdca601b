using System.Diagnostics;

namespace Orchestrator.Tests.Support;

/// <summary>
/// A small tmpfs mounted on a folder, for a disk that really fills up (ENOSPC from the kernel, not a fake
/// writer). Needs root, as the CI container and the development machine run; unmounted on dispose.
/// </summary>
public sealed class TmpfsMount : IDisposable
{
    public TmpfsMount(string path, int kilobytes)
    {
        Path = path;
        Directory.CreateDirectory(path);
        Run("mount", "-t", "tmpfs", "-o", $"size={kilobytes}k", "tmpfs", path);
    }

    public string Path { get; }

    /// <summary>"Frees space": the same files, on a bigger disk.</summary>
    public void Grow(int kilobytes) => Run("mount", "-o", $"remount,size={kilobytes}k", Path);

    /// <summary>Fills what is left with one file, which <see cref="Grow"/> or deleting it frees again.</summary>
    public string Fill()
    {
        var filler = System.IO.Path.Combine(Path, "filler");
        using var stream = new FileStream(filler, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        var block = new byte[4096];
        try
        {
            while (true)
            {
                stream.Write(block);
                stream.Flush();
            }
        }
        catch (IOException)
        {
            // ENOSPC: the disk is full, as wanted
        }
        return filler;
    }

    public void Dispose() => Run("umount", "-l", Path);

    private static void Run(string program, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({process.ExitCode}): {error.Trim()} (disk-full tests mount a tmpfs and need root)");
        }
    }
}
