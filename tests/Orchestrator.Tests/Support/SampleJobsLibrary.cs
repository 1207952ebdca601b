using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace Orchestrator.Tests.Support;

/// <summary>tests/SampleJobs as its own build wrote it: a user's job library, outside the orchestrator's folder.</summary>
public static class SampleJobsLibrary
{
    /// <summary>SampleJobs.dll in SampleJobs' output, of the same configuration as these tests.</summary>
    public static string DllPath
    {
        get
        {
            // .../tests/Orchestrator.Tests/bin/<Configuration>/net10.0/ -> .../tests/SampleJobs/bin/<Configuration>/net10.0/
            var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var configuration = output.Parent!.Name;
            var tests = output.Parent.Parent!.Parent!.Parent!.FullName;
            var path = Path.Combine(tests, "SampleJobs", "bin", configuration, output.Name, "SampleJobs.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"SampleJobs was not built at {path}");
        }
    }

    /// <summary>The library's files copied into <paramref name="folder"/>, as a user deploys a build; returns the dll.</summary>
    public static string CopyTo(string folder)
    {
        Directory.CreateDirectory(folder);
        var source = Path.GetDirectoryName(DllPath)!;
        foreach (var file in Directory.GetFiles(source, "SampleJobs.*"))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)), overwrite: true);
        }
        return Path.Combine(folder, "SampleJobs.dll");
    }

    /// <summary>
    /// Another build of the same code over <paramref name="dll"/>: only the time stamp in its PE header
    /// differs, so it loads and runs alike but its SHA-256 is another.
    /// </summary>
    public static void Rebuild(string dll)
    {
        var image = File.ReadAllBytes(dll);
        int stamp;
        using (var pe = new PEReader(new MemoryStream(image)))
        {
            stamp = pe.PEHeaders.CoffHeaderStartOffset + 4; // Machine (2 bytes), NumberOfSections (2), TimeDateStamp (4)
        }
        image[stamp] ^= 0x5A;
        File.WriteAllBytes(dll, image);
    }

    /// <summary>
    /// Copies the library's output folder and rewrites, in the copy, the Orchestrator.Trainer version its
    /// assembly references: the library as if built against another release of the package.
    /// </summary>
    public static string CopyBuiltAgainstTrainer(string folder, ushort major)
    {
        var copy = CopyTo(folder);
        var image = File.ReadAllBytes(copy);
        long offset;
        using (var pe = new PEReader(new MemoryStream(image)))
        {
            var metadata = pe.GetMetadataReader();
            var row = metadata.AssemblyReferences.Select(h => (Handle: h, Name: metadata.GetString(metadata.GetAssemblyReference(h).Name)))
                .Single(r => r.Name == "Orchestrator.Trainer").Handle;
            // An AssemblyRef row starts with its version's major number (two bytes, little-endian).
            offset = pe.PEHeaders.MetadataStartOffset + metadata.GetTableMetadataOffset(TableIndex.AssemblyRef)
                + ((MetadataTokens.GetRowNumber(row) - 1) * metadata.GetTableRowSize(TableIndex.AssemblyRef));
        }
        BitConverter.GetBytes(major).CopyTo(image, offset);
        File.WriteAllBytes(copy, image);
        return copy;
    }
}
