using System.Diagnostics;

namespace Orchestrator.Testing;

/// <summary>
/// A real PyTorch for the interop tests: the first of <c>python3</c> and <c>/usr/bin/python3</c> (where Debian's
/// <c>python3-torch</c> installs; a pyenv or venv <c>python3</c> may come first on the PATH) that imports torch
/// and numpy. Without one the tests fail, saying how to install it: they are never skipped.
/// </summary>
public static class PythonTorch
{
    private static readonly Lazy<string> Found = new(Find);

    public static string Interpreter => Found.Value;

    /// <summary>Runs <paramref name="script"/> (Python source, written to a file in <paramref name="folder"/>) with the arguments; returns its exit code and output.</summary>
    public static (int ExitCode, string Output) RunScript(string folder, string script, params string[] args)
    {
        var path = Path.Combine(folder, "check.py");
        File.WriteAllText(path, script);
        return Run([path, .. args]);
    }

    private static (int ExitCode, string Output) Run(IEnumerable<string> args, string? interpreter = null)
    {
        var start = new ProcessStartInfo(interpreter ?? Interpreter) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"python ran over 3 minutes: {output}");
        }
        return (process.ExitCode, output + error.Result);
    }

    private static string Find()
    {
        foreach (var candidate in new[] { "python3", "/usr/bin/python3" })
        {
            try
            {
                if (Run(["-c", "import torch, numpy"], candidate).ExitCode == 0)
                {
                    return candidate;
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // not installed under that name
            }
        }
        throw new InvalidOperationException(
            "these tests need PyTorch and numpy for python3: apt-get install -y python3-torch python3-numpy (Debian 12; .ci/run installs them)");
    }
}
