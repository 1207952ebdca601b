namespace Orchestrator.NativeFixup;

/// <summary>
/// Marks chosen version needs of a shared library WEAK, so the dynamic loader accepts a host library that
/// lacks those versions. Only safe for versions whose symbols are never called: for TorchSharp 0.107 that is
/// GLIBCXX_3.4.32, which stands only behind <c>std::ios_base_library_init()</c>.
/// </summary>
public static class VersionNeedWeakener
{
    /// <summary>Returns the versions it changed; an already weak need is left alone, so a rerun changes nothing.</summary>
    public static IReadOnlyList<string> Weaken(string libraryPath, IReadOnlySet<string> versionsToWeaken)
    {
        var image = ElfImage.Parse(File.ReadAllBytes(libraryPath));
        var changed = new List<string>();
        foreach (var need in image.VersionNeeds().ToList())
        {
            if (versionsToWeaken.Contains(need.Version) && !need.IsWeak)
            {
                image.SetFlags(need, (ushort)(need.Flags | ElfImage.WeakVersionFlag));
                changed.Add(need.Version);
            }
        }
        if (changed.Count > 0)
        {
            ReplaceAtomically(libraryPath, image.Bytes);
        }
        return changed;
    }

    // The output folder's copy may be a hard link into the NuGet cache: writing in place would patch the
    // cache for every project. A new file renamed over the old one breaks the link and is never half-written.
    private static void ReplaceAtomically(string path, byte[] bytes)
    {
        var temporary = path + ".fixup-tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, File.GetUnixFileMode(path));
        }
        File.Move(temporary, path, overwrite: true);
    }
}
