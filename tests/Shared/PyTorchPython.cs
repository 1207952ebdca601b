using System.Diagnostics;

namespace Orchestrator.Testing;

/// <summary>
/// A Python 3 with PyTorch and numpy, for the tests that check this project's files against a real PyTorch.
/// Without one those tests fail (never skip), saying how to install it; <c>.ci/run</c> installs it.
/// </summary>
public static class PyTorchPython
{
    private const string Variable = "ORCHESTRATOR_TEST_PYTHON";

    private static readonly Lazy<string?> Found = new(Find);

    /// <summary>The interpreter: $ORCHESTRATOR_TEST_PYTHON, else python3, else Debian's /usr/bin/python3, the first that imports torch.</summary>
    public static string Interpreter => Found.Value ?? throw new Xunit.Sdk.XunitException(
        $"PyTorch is not installed for python3: install it with `apt-get install -y python3-torch python3-numpy` (Debian; .ci/run does this), or set {Variable} to a python that can `import torch, numpy`");

    /// <summary>Runs <paramref name="script"/> with <paramref name="args"/>; returns its standard output, or fails the test with its error.</summary>
    public static string Run(string script, params string[] args)
    {
        var file = Path.Combine(Path.GetTempPath(), $"orchestrator-test-{Guid.NewGuid():N}.py");
        File.WriteAllText(file, script);
        try
        {
            var (exit, output, error) = Execute(Interpreter, [file, .. args]);
            return exit == 0 ? output : throw new Xunit.Sdk.XunitException($"python script failed (exit {exit}): {error}");
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static string? Find()
    {
        var candidates = new[] { Environment.GetEnvironmentVariable(Variable), "python3", "/usr/bin/python3" };
        return candidates.Where(c => !string.IsNullOrEmpty(c)).FirstOrDefault(c => Imports(c!));
    }

    private static bool Imports(string interpreter)
    {
        try
        {
            return Execute(interpreter, ["-c", "import torch, numpy"]).Exit == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // no such program
        }
    }

    private static (int Exit, string Output, string Error) Execute(string interpreter, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(interpreter) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output, error.Result);
    }
}
