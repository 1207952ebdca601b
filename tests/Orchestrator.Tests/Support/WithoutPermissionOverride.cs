using System.Diagnostics;

namespace Orchestrator.Tests.Support;

/// <summary>
/// Runs the program as root would run it without the capabilities that ignore permission bits
/// (<c>setpriv</c> drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH), so an unreadable or unwritable path is
/// refused as it is for a normal user. As another user, it simply runs the program.
/// </summary>
public static class WithoutPermissionOverride
{
    public static CliResult Run(IEnumerable<string> args)
    {
        var root = Environment.UserName == "root";
        var start = new ProcessStartInfo(root ? "setpriv" : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        if (root)
        {
            foreach (var flag in new[] { "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search", "dotnet" })
            {
                start.ArgumentList.Add(flag);
            }
        }
        start.ArgumentList.Add(OrchestratorProgram.Dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(CliProcess.Limit), "orchestrator did not finish");
        return new CliResult(process.ExitCode, output.Result, error.Result);
    }
}
