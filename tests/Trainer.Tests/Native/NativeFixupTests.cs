using Orchestrator.NativeFixup;
using Orchestrator.Trainer.Tests.Support;
using Orchestrator.Trainer.Tensors;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Native;

public sealed class NativeFixupTests : IDisposable
{
    private const string Version = "GLIBCXX_3.4.32";
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Pristine_TorchSharp_library_needs_the_GCC13_version_strongly()
    {
        var needs = ElfImage.Parse(File.ReadAllBytes(PristineLibrary())).VersionNeeds().ToList();

        var need = Assert.Single(needs, n => n.Version == Version);
        Assert.Equal("libstdc++.so.6", need.File);
        Assert.False(need.IsWeak);
    }

    [Fact]
    public void Weakening_changes_only_that_need_and_a_second_run_changes_nothing()
    {
        var copy = _temp.Sub("libLibTorchSharp.so");
        File.Copy(PristineLibrary(), copy);
        var before = File.ReadAllBytes(copy);

        var first = VersionNeedWeakener.Weaken(copy, new HashSet<string> { Version });
        var afterFirst = File.ReadAllBytes(copy);
        var second = VersionNeedWeakener.Weaken(copy, new HashSet<string> { Version });

        Assert.Equal([Version], first);
        Assert.Empty(second);
        Assert.Equal(afterFirst, File.ReadAllBytes(copy));
        var changedBytes = before.Zip(afterFirst).Count(pair => pair.First != pair.Second);
        Assert.Equal(1, changedBytes);
        var needs = ElfImage.Parse(afterFirst).VersionNeeds().ToList();
        Assert.True(needs.Single(n => n.Version == Version).IsWeak);
        Assert.All(needs.Where(n => n.Version != Version), n => Assert.Equal(
            ElfImage.Parse(before).VersionNeeds().Single(o => o.Version == n.Version && o.File == n.File).Flags, n.Flags));
    }

    [Fact]
    public void Build_output_copy_is_weakened_exactly_when_the_host_lacks_the_version()
    {
        var host = HostLibStdCxx.Locate();
        Assert.NotNull(host);
        var hostHasIt = HostLibStdCxx.OfferedVersions(host).Contains(Version);
        var outputCopy = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

        var need = ElfImage.Parse(File.ReadAllBytes(outputCopy)).VersionNeeds().Single(n => n.Version == Version);

        Assert.Equal(!hostHasIt, need.IsWeak);
        Assert.False(ElfImage.Parse(File.ReadAllBytes(PristineLibrary())).VersionNeeds().Single(n => n.Version == Version).IsWeak);
    }

    [Fact]
    public void Host_libstdcxx_offers_its_GLIBCXX_versions()
    {
        var versions = HostLibStdCxx.OfferedVersions(HostLibStdCxx.Locate()!);

        Assert.Contains("GLIBCXX_3.4.30", versions);
    }

    [Fact]
    public void Non_ELF_input_is_refused_with_a_clear_error()
    {
        var error = Assert.Throws<InvalidDataException>(() => ElfImage.Parse(new byte[128]));
        Assert.Equal("not an ELF file", error.Message);
    }

    [Fact]
    public void TorchSharp_loads_and_a_job_trains_until_its_loss_falls()
    {
        var observer = new RecordingObserver();
        TrainingRun.Execute(Runs.Job(), Runs.Options(_temp.Path, steps: 120, every: 1000) with { Schedule = new(SaveLast: false) }, observer);
        var losses = observer.Steps.Select(s => s.Loss).ToList();

        Assert.Equal(120, losses.Count);
        Assert.True(losses.TakeLast(10).Average() < losses.Take(10).Average() * 0.8, $"loss {losses.Take(10).Average()} -> {losses.TakeLast(10).Average()}");
        Assert.Equal(64, WeightsDigest.Of([]).Length);
    }

    private static string PristineLibrary()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var path = Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(path), $"TorchSharp package not found at {path}");
        return path;
    }
}
