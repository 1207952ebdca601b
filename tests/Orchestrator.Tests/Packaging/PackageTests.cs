using System.IO.Compression;
using System.Reflection;
using System.Xml.Linq;
using Orchestrator.NativeFixup;
using Orchestrator.Tests.Support;
using Xunit.Abstractions;

namespace Orchestrator.Tests.Packaging;

/// <summary>
/// The packages as a user consumes them, from a folder feed, in folders outside the repository, where
/// nothing of this repository's build (Directory.Build.props, build/NativeFixup.targets) reaches.
/// </summary>
[Collection(PackagedOrchestrator.Collection)]
public sealed class PackageTests(PackagedOrchestrator packaged, ITestOutputHelper output) : IDisposable
{
    // A user's own program: a small regression trained with TrainingRun, checkpointed, its weights hashed.
    private const string TrainingProgram = """
        using Orchestrator.Trainer.Checkpointing;
        using Orchestrator.Trainer.Data;
        using Orchestrator.Trainer.Jobs;
        using Orchestrator.Trainer.Training;
        using TorchSharp;
        using static TorchSharp.torch;

        var result = TrainingRun.Execute(
            createJob: () =>
            {
                var inputs = randn(256, 8, generator: new Generator(3));
                var targets = inputs.sum(1, keepdim: true);
                var model = nn.Linear(8, 1);
                return new TrainingJob
                {
                    Name = "regression",
                    Model = model,
                    Optimizer = new Adam(model.parameters(), 1e-2),
                    LearningRate = new StepDecayLearningRate(1e-2, StepSize: 100, Gamma: 0.5),
                    Data = new ShuffledTensorDataset(inputs, targets, batchSize: 32),
                    Loss = batch => nn.functional.mse_loss(model.call(batch.Input), batch.Target),
                };
            },
            options: new RunOptions { WorkDir = args[0], Steps = 20, Seed = 42, Threads = 1, Schedule = new CheckpointSchedule(EveryIterations: 10) });
        Console.WriteLine($"{result.Outcome} at step {result.Iteration}");
        Console.WriteLine($"weights-sha256: {result.WeightsSha256}");
        """;

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Pack_makes_the_library_and_the_tool_and_nothing_else()
    {
        output.WriteLine($"pack {packaged.PackTime.TotalSeconds:F1} s, tool install {packaged.InstallTime.TotalSeconds:F1} s");

        var packages = Directory.GetFiles(packaged.Feed).Select(p => Path.GetFileName(p)).Order().ToArray();

        Assert.Equal([$"Orchestrator.{packaged.PackageVersion}.nupkg", $"Orchestrator.Trainer.{packaged.PackageVersion}.nupkg"], packages);
    }

    [Fact]
    public void The_library_package_brings_its_dependencies_and_the_native_fixup()
    {
        using var package = ZipFile.OpenRead(Path.Combine(packaged.Feed, $"Orchestrator.Trainer.{packaged.PackageVersion}.nupkg"));
        var entries = package.Entries.Select(e => e.FullName).ToHashSet();
        var nuspec = XDocument.Load(package.GetEntry("Orchestrator.Trainer.nuspec")!.Open());
        var dependencies = nuspec.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => (string)e.Attribute("id")!).Order();

        Assert.Contains("lib/net10.0/Orchestrator.Trainer.dll", entries);
        Assert.Contains("buildTransitive/Orchestrator.Trainer.targets", entries);
        Assert.Contains("tools/NativeFixup/NativeFixup.dll", entries);
        Assert.Contains("tools/NativeFixup/NativeFixup.runtimeconfig.json", entries);
        Assert.Equal(["libtorch-cpu-linux-x64", "System.IO.Hashing", "TorchSharp"], dependencies);
    }

    [Fact]
    public void A_prerelease_package_keeps_assembly_version_1_0_0_0()
    {
        using var package = ZipFile.OpenRead(Path.Combine(packaged.Feed, $"Orchestrator.Trainer.{packaged.PackageVersion}.nupkg"));
        var dll = _temp.Sub("Orchestrator.Trainer.dll");
        package.GetEntry("lib/net10.0/Orchestrator.Trainer.dll")!.ExtractToFile(dll);

        Assert.Equal(new Version(1, 0, 0, 0), AssemblyName.GetAssemblyName(dll).Version);
    }

    [Fact]
    public void The_tool_package_carries_its_native_library_weakened_for_any_host()
    {
        using var package = ZipFile.OpenRead(Path.Combine(packaged.Feed, $"Orchestrator.{packaged.PackageVersion}.nupkg"));
        using var library = new MemoryStream();
        package.GetEntry("tools/net10.0/any/runtimes/linux-x64/native/libLibTorchSharp.so")!.Open().CopyTo(library);

        var need = ElfImage.Parse(library.ToArray()).VersionNeeds().Single(n => n.Version == "GLIBCXX_3.4.32");

        Assert.True(need.IsWeak, "packed for this host only: a host with a newer libstdc++ would pack a tool that fails on Debian 12");
    }

    [Fact]
    public void A_console_project_outside_the_repository_trains_with_the_package()
    {
        var dll = packaged.BuildProject("UserTraining", new Dictionary<string, string> { ["Program.cs"] = TrainingProgram }, UserProjectKind.Console);

        var run = PackagedOrchestrator.RunProgram(dll, [_temp.Sub("run")]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Matches("^[0-9a-f]{64}$", run.WeightsSha256);
    }

    [Fact]
    public void A_console_project_built_with_an_output_folder_trains_the_same()
    {
        var inPlace = packaged.BuildProject("UserTrainingOut", new Dictionary<string, string> { ["Program.cs"] = TrainingProgram }, UserProjectKind.Console);
        var moved = packaged.BuildProject("UserTrainingOut", new Dictionary<string, string> { ["Program.cs"] = TrainingProgram }, UserProjectKind.Console, _temp.Sub("out"));

        var first = PackagedOrchestrator.RunProgram(inPlace, [_temp.Sub("run-in-place")]);
        var second = PackagedOrchestrator.RunProgram(moved, [_temp.Sub("run-moved")]);

        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal(first.WeightsSha256, second.WeightsSha256);
    }

    [Fact]
    public void A_program_that_gets_the_package_through_a_library_of_its_own_loads_TorchSharp()
    {
        const string Library = """
            using static TorchSharp.torch;

            namespace UserModels;

            public static class Numbers
            {
                public static float SumOfOnes(int n) => ones(n, n).sum().item<float>();
            }
            """;
        packaged.BuildProject("UserModels", new Dictionary<string, string> { ["Numbers.cs"] = Library });
        var app = packaged.BuildProject("UserApp", new Dictionary<string, string> { ["Program.cs"] = "Console.WriteLine($\"sum: {UserModels.Numbers.SumOfOnes(3)}\");" },
            UserProjectKind.Console, through: "UserModels");

        var run = PackagedOrchestrator.RunProgram(app, []);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("sum: 9", run.Output.Trim());
    }

    [Fact]
    public void The_installed_tool_trains_a_job_library_built_from_the_feed_as_the_repository_builds_do()
    {
        var source = File.ReadAllText(Path.Combine(PackagedOrchestrator.RepositoryRoot, "examples", "MyJobs", "Autoencoder.cs"));
        var library = packaged.BuildProject("UserJobs", new Dictionary<string, string> { ["Autoencoder.cs"] = source });
        static string[] Train(string assembly, string workDir) =>
            ["train", "--job-assembly", assembly, "--job", "autoencoder", "--work-dir", workDir, "--steps", "20", "--threads", "1"];

        var tool = packaged.RunTool(Train(library, _temp.Sub("tool")));
        var repository = CliProcess.Run(Train(SampleJobsLibrary.DllPath, _temp.Sub("repository")));

        Assert.True(tool.ExitCode == 0, tool.ToString());
        Assert.Equal(repository.WeightsSha256, tool.WeightsSha256);
    }

    [Fact]
    public void The_installed_tool_trains_a_built_in_job_as_the_repository_build_does()
    {
        var tool = packaged.RunTool(CliProcess.Train("mlp", _temp.Sub("tool"), 20));
        var repository = CliProcess.Run(CliProcess.Train("mlp", _temp.Sub("repository"), 20));

        Assert.True(tool.ExitCode == 0, tool.ToString());
        Assert.Equal(repository.WeightsSha256, tool.WeightsSha256);
    }
}
