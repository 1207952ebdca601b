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

    /// <summary>
    /// Copies the library's output folder and rewrites, in the copy, the Orchestrator.Trainer version its
    /// assembly references: the library as if built against another release of the package.
    /// </summary>
    public static string CopyBuiltAgainstTrainer(string folder, ushort major)
    {
        var source = Path.GetDirectoryName(DllPath)!;
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.GetFiles(source, "SampleJobs.*"))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }
        var copy = Path.Combine(folder, "SampleJobs.dll");
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
