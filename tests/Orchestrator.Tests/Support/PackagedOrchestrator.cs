using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Orchestrator.Tests.Support;

/// <summary>
/// Orchestrator as a user gets it: the solution packed into a temporary folder feed, the <c>orchestrator</c>
/// tool installed from that feed, and users' projects created in a temporary folder outside the repository
/// that reference <c>Orchestrator.Trainer</c> from the same feed. Packing takes a minute or more, so this is a
/// collection fixture: every class marked <c>[Collection(PackagedOrchestrator.Collection)]</c> shares one pack.
/// </summary>
public sealed class PackagedOrchestrator : IDisposable
{
    public const string Collection = "Packaged orchestrator";

    private static readonly TimeSpan PackLimit = TimeSpan.FromMinutes(8);
    private static readonly TimeSpan StepLimit = TimeSpan.FromMinutes(3);

    private readonly TempDirectory _temp = new();
    private readonly string _projects;

    public PackagedOrchestrator()
    {
        try
        {
            // NuGet's global cache keeps a package by id and version for good: a version of its own per pack
            // makes restore take this pack, never an older one (Dispose removes it from the cache again).
            PackageVersion = $"1.0.0-test.{DateTime.UtcNow:yyyyMMddHHmmssfff}";
            Feed = _temp.Sub("feed");
            var clock = Stopwatch.StartNew();
            // --artifacts-path keeps the Release build and its restore out of the repository's bin and obj,
            // which the test run itself and a developer's builds use.
            DotnetCommand.Run(RepositoryRoot,
                ["pack", "Orchestrator.sln", "-c", "Release", "-o", Feed, "--artifacts-path", _temp.Sub("artifacts"), $"-p:PackageVersion={PackageVersion}"],
                PackLimit);
            PackTime = clock.Elapsed;

            clock.Restart();
            var tools = _temp.Sub("tools");
            DotnetCommand.Run(_temp.Path,
                ["tool", "install", "--tool-path", tools, "--add-source", Feed, "--version", PackageVersion, "Orchestrator"],
                StepLimit);
            InstallTime = clock.Elapsed;
            ToolCommand = Path.Combine(tools, "orchestrator");

            // A user's folder with the feed added as a package source, beside the sources they already have.
            _projects = _temp.Sub("projects");
            Directory.CreateDirectory(_projects);
            File.WriteAllText(Path.Combine(_projects, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="orchestrator-test-feed" value="{Feed}" />
                  </packageSources>
                </configuration>
                """);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The folder feed holding the packed <c>Orchestrator.Trainer</c> and <c>Orchestrator</c> packages.</summary>
    public string Feed { get; }

    /// <summary>The version both packages were packed with, unique to this test run (1.0.0-test.TIMESTAMP).</summary>
    public string PackageVersion { get; }

    /// <summary>The installed tool's command, what a user types as <c>orchestrator</c>.</summary>
    public string ToolCommand { get; }

    public TimeSpan PackTime { get; }

    public TimeSpan InstallTime { get; }

    /// <summary>
    /// Creates (or overwrites) project <paramref name="name"/> in a folder outside the repository, referencing
    /// <c>Orchestrator.Trainer</c> from the feed, with <paramref name="sources"/> (relative path → C# text) as its
    /// code; builds it with <c>dotnet build</c> (into <paramref name="outputDirectory"/> with <c>-o</c> when
    /// given) and returns the built dll's path. A failed build fails the test with the compiler's output.
    /// With <paramref name="through"/> (the name of a project built earlier) it references that project
    /// instead, and gets <c>Orchestrator.Trainer</c> only through it.
    /// </summary>
    public string BuildProject(string name, IReadOnlyDictionary<string, string> sources, UserProjectKind kind = UserProjectKind.ClassLibrary, string? outputDirectory = null, string? through = null)
    {
        var directory = Path.Combine(_projects, name);
        Directory.CreateDirectory(directory);
        var outputType = kind == UserProjectKind.Console ? "Exe" : "Library";
        var reference = through is null
            ? $"""<PackageReference Include="Orchestrator.Trainer" Version="{PackageVersion}" />"""
            : $"""<ProjectReference Include="../{through}/{through}.csproj" />""";
        // What `dotnet new` writes, plus the one reference the user adds.
        File.WriteAllText(Path.Combine(directory, name + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>{outputType}</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                {reference}
              </ItemGroup>
            </Project>
            """);
        foreach (var (relativePath, text) in sources)
        {
            var path = Path.Combine(directory, relativePath);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, text);
        }

        List<string> build = ["build", name + ".csproj"];
        if (outputDirectory is not null)
        {
            build.AddRange(["-o", outputDirectory]);
        }
        DotnetCommand.Run(directory, build, StepLimit);
        var dll = Path.Combine(outputDirectory ?? Path.Combine(directory, "bin", "Debug", "net10.0"), name + ".dll");
        Assert.True(File.Exists(dll), $"the build reported success but left no {dll}");
        return dll;
    }

    /// <summary>Runs the installed tool to the end, as <c>orchestrator ARGS</c>.</summary>
    public CliResult RunTool(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var running = StartTool(args, environment);
        return running.WaitForExit();
    }

    /// <summary>Starts the installed tool, for tests that kill it or wait for a line.</summary>
    public RunningCli StartTool(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null) =>
        Start(ToolCommand, args, environment);

    /// <summary>Runs a user's built console program (<c>dotnet PATH.dll ARGS</c>) to the end.</summary>
    public static CliResult RunProgram(string dllPath, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var running = Start("dotnet", [dllPath, .. args], environment);
        return running.WaitForExit();
    }

    public void Dispose()
    {
        _temp.Dispose();
        if (PackageVersion is not null)
        {
            ForgetInGlobalCache("orchestrator.trainer");
            ForgetInGlobalCache("orchestrator");
        }
    }

    private static RunningCli Start(string fileName, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment.Remove("ORCHESTRATOR_KILL_AT");
        // The installed tool is a native launcher that looks for .NET where installers put it; a user with
        // .NET elsewhere sets DOTNET_ROOT, and so does this, to the runtime the tests run on.
        if (!start.Environment.TryGetValue("DOTNET_ROOT", out var dotnetRoot) || string.IsNullOrEmpty(dotnetRoot))
        {
            start.Environment["DOTNET_ROOT"] = DotnetRoot;
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        return new RunningCli(Process.Start(start)!);
    }

    // Restore extracted this run's packages into the global cache; nothing else will ever ask for them.
    private void ForgetInGlobalCache(string lowerCaseId)
    {
        var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var package = Path.Combine(root, lowerCaseId);
        try
        {
            var version = Path.Combine(package, PackageVersion.ToLowerInvariant());
            if (Directory.Exists(version))
            {
                Directory.Delete(version, recursive: true);
            }
            if (Directory.Exists(package) && !Directory.EnumerateFileSystemEntries(package).Any())
            {
                Directory.Delete(package);
            }
        }
        catch (IOException)
        {
            // Harmless leftovers; never fail a test run over cleanup.
        }
    }

    /// <summary>The .NET install the tests run on, for the installed tool's launcher.</summary>
    public static string DotnetRoot => Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } set
        ? set
        : Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));

    /// <summary>The repository these tests were built from: where to read a job library's sources to build from the feed.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Orchestrator.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException($"no Orchestrator.sln above {AppContext.BaseDirectory}");
    }
}

public enum UserProjectKind
{
    ClassLibrary,
    Console,
}

/// <summary>One pack per test run for every class in the collection.</summary>
[CollectionDefinition(PackagedOrchestrator.Collection)]
public sealed class PackagedOrchestratorCollection : ICollectionFixture<PackagedOrchestrator>;
