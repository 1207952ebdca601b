using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// A checkpoint is data, never a path into the machine. A manifest names its files, and a crafted one could
/// name <c>../../etc/shadow</c>, an absolute path, or a link or a device planted in the folder: each file is
/// therefore a plain name inside its checkpoint folder, and only a regular file is opened, never through a
/// symbolic link (the open itself refuses to follow one, so a link swapped in after a check is refused too,
/// and a FIFO is opened without waiting for a writer). Its real size is checked against the declared size
/// before any byte is read. Refusals name the checkpoint and the entry, never anything about a file outside.
/// </summary>
public static partial class CheckpointFileGuard
{
    // NAME_MAX on Linux: a longer name cannot be a file of this folder.
    private const int MaxNameBytes = 255;
    private const int MaxManifestBytes = 64 << 20;
    private const string Missing = "is missing";

    /// <summary>Refuses a manifest entry that is not a plain file name (checked before anything is opened).</summary>
    public static void RequirePlainName(string checkpoint, string file)
    {
        var problem = file switch
        {
            null or "" => "is empty",
            "." or ".." => "names a folder",
            _ when file.Contains('/') || file.Contains('\\') || Path.IsPathRooted(file) => "is a path, not a file name",
            _ when file.Any(char.IsControl) => "holds control characters",
            _ when Encoding.UTF8.GetByteCount(file) > MaxNameBytes => $"is longer than {MaxNameBytes} bytes",
            _ => null,
        };
        if (problem is not null)
        {
            throw new CorruptCheckpointException(
                $"{checkpoint}: {CheckpointFormat.ManifestFile} entry '{PrintableText.Escape(file)}' {problem}; a checkpoint's files are plain names inside its folder (refused, nothing outside was read)");
        }
    }

    /// <summary>
    /// Opens <paramref name="file"/> of a checkpoint for reading: a regular file of exactly
    /// <paramref name="declaredBytes"/> bytes, or a <see cref="CorruptCheckpointException"/> that says why not.
    /// </summary>
    public static SafeFileHandle OpenEntry(string checkpoint, string folder, string file, long declaredBytes)
    {
        RequirePlainName(checkpoint, file);
        var handle = TryOpenRegular(Path.Combine(folder, file), out var length, out var refusal)
            ?? throw new CorruptCheckpointException($"{checkpoint}: {PrintableText.Escape(file)} {refusal}");
        if (length != declaredBytes)
        {
            handle.Dispose();
            throw new CorruptCheckpointException(
                $"{checkpoint}: {PrintableText.Escape(file)} is {(length < declaredBytes ? "truncated" : "too long")} ({length} of {declaredBytes} bytes)");
        }
        return handle;
    }

    /// <summary>
    /// The manifest's bytes, if the checkpoint is a folder (not a link to one) holding a regular
    /// <c>MANIFEST.json</c> of a size a manifest can have (its inline tensors are at most 64 KiB a component).
    /// </summary>
    public static byte[] ReadManifest(string checkpoint, string folder)
    {
        if (new DirectoryInfo(folder).LinkTarget is not null)
        {
            throw new CorruptCheckpointException($"{checkpoint}: is a symbolic link, not a checkpoint folder (refused, not followed)");
        }
        const string file = CheckpointFormat.ManifestFile;
        using var handle = TryOpenRegular(Path.Combine(folder, file), out var length, out var refusal)
            ?? throw new CorruptCheckpointException($"{checkpoint}: {file} {(refusal == Missing ? "is missing, the save never completed" : refusal)}");
        var bytes = length <= MaxManifestBytes ? new byte[length] : throw new CorruptCheckpointException($"{checkpoint}: {file} is {length} bytes, more than a manifest can be ({MaxManifestBytes})");
        return RandomAccess.Read(handle, bytes, 0) == length ? bytes : throw new CorruptCheckpointException($"{checkpoint}: {file} changed while it was read");
    }

    /// <summary>
    /// Opens <paramref name="path"/> if it is a regular file (its last component not a symbolic link); else
    /// null, and in <paramref name="refusal"/> why ("is missing", "is a symbolic link", "is a FIFO", ...).
    /// </summary>
    public static SafeFileHandle? TryOpenRegular(string path, out long length, out string? refusal)
    {
        length = 0;
        return OperatingSystem.IsLinux() ? OpenOnLinux(path, ref length, out refusal) : OpenPortably(path, ref length, out refusal);
    }

    /// <summary>A small file read whole if it is a regular file of at most <paramref name="maxBytes"/>; null otherwise.</summary>
    public static byte[]? ReadSmallFile(string path, int maxBytes)
    {
        using var handle = TryOpenRegular(path, out var length, out _);
        if (handle is null || length > maxBytes)
        {
            return null;
        }
        var bytes = new byte[length];
        var read = RandomAccess.Read(handle, bytes, 0);
        return bytes[..read];
    }

    /// <summary>The bytes of the regular files directly in <paramref name="folder"/>, links and devices not counted (nor followed).</summary>
    public static long RegularFileBytes(string folder)
    {
        long total = 0;
        foreach (var path in Directory.EnumerateFileSystemEntries(folder))
        {
            using var handle = TryOpenRegular(path, out var length, out _);
            total += handle is null ? 0 : length;
        }
        return total;
    }

    private static SafeFileHandle? OpenOnLinux(string path, ref long length, out string? refusal)
    {
        // O_NOFOLLOW: a symbolic link as the last component fails with ELOOP instead of being followed.
        // O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer; cleared below.
        var noFollow = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x8000 : 0x20000;
        var fd = Open(path, noFollow | NonBlocking | CloseOnExec);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            refusal = errno switch
            {
                NoSuchFile => Missing,
                TooManyLinks => "is a symbolic link, not a file (refused, not followed)",
                _ => $"cannot be opened ({Marshal.GetPInvokeErrorMessage(errno)})",
            };
            return null;
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        Span<byte> status = stackalloc byte[StatxBytes];
        if (Statx(fd, "", EmptyPath, StatxType | StatxSize, ref MemoryMarshal.GetReference(status)) != 0)
        {
            handle.Dispose();
            refusal = $"cannot be examined ({Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())})";
            return null;
        }
        var type = BitConverter.ToUInt16(status[StatxModeOffset..]) & FileTypeMask;
        if (type != RegularFile)
        {
            handle.Dispose();
            refusal = $"is {DescribeType(type)}, not a regular file (refused)";
            return null;
        }
        _ = SetFlags(fd, SetFileFlags, 0);
        length = BitConverter.ToInt64(status[StatxSizeOffset..]);
        refusal = null;
        return handle;
    }

    // Elsewhere (never where this program trains today): links are refused, devices cannot be told apart.
    private static SafeFileHandle? OpenPortably(string path, ref long length, out string? refusal)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not null)
        {
            refusal = "is a symbolic link, not a file (refused, not followed)";
            return null;
        }
        if (!info.Exists)
        {
            refusal = Missing;
            return null;
        }
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        length = RandomAccess.GetLength(handle);
        refusal = null;
        return handle;
    }

    private static string DescribeType(int type) => type switch
    {
        0x1000 => "a FIFO",
        0x2000 => "a character device",
        0x4000 => "a folder",
        0x6000 => "a block device",
        0xA000 => "a symbolic link",
        0xC000 => "a socket",
        _ => "not a plain file",
    };

    private const int NoSuchFile = 2; // ENOENT
    private const int TooManyLinks = 40; // ELOOP, what O_NOFOLLOW gives for a link
    private const int NonBlocking = 0x800; // O_NONBLOCK
    private const int CloseOnExec = 0x80000; // O_CLOEXEC
    private const int SetFileFlags = 4; // F_SETFL
    private const int EmptyPath = 0x1000; // AT_EMPTY_PATH: statx of the open descriptor itself
    private const uint StatxType = 0x1;
    private const uint StatxSize = 0x200;
    private const int StatxBytes = 256; // struct statx, the same on every Linux architecture
    private const int StatxModeOffset = 28;
    private const int StatxSizeOffset = 40;
    private const int FileTypeMask = 0xF000; // S_IFMT
    private const int RegularFile = 0x8000; // S_IFREG

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, ref byte status);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int SetFlags(int fd, int command, int flags);
}
