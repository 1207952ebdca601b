using Orchestrator.Tests.Support;

namespace Orchestrator.Tests.Cli;

/// <summary>
/// Bad input as a hostile user types it, one row each, across train, history, status, plot and checkpoints:
/// every row ends in exit code 2, exactly one line on stderr naming the problem, no stack frame, no
/// exception type, and no work dir or journal made by the refused command.
/// </summary>
public sealed class BadInputSweepTests : IDisposable
{
    // {work}: a work dir that must not exist afterwards; {file}: an existing plain file; {conf:NAME}: a config
    // file written from Configs; {good}: the work dir of a finished run (for commands that read one).
    private static readonly string LongTemplate = new string('a', 300) + "_{n}";

    private static readonly Dictionary<string, (string[] Args, string Expected)> Rows = new()
    {
        ["step timeout that overflows"] = (Train("--step-timeout", "1e300"), "--step-timeout 1E+300 is out of range: give a number above 0 and at most 604800 seconds"),
        ["step timeout NaN"] = (Train("--step-timeout", "NaN"), "--step-timeout NaN is out of range"),
        ["checkpoint seconds NaN"] = (Train("--checkpoint-every-seconds", "nan"), "--checkpoint-every-seconds NaN is out of range"),
        ["negative restart window"] = (Train("--restart-window", "-5"), "--restart-window -5 is out of range"),
        ["negative restart backoff"] = (Train("--restart-backoff", "-1"), "--restart-backoff -1 is out of range: give a number from 0 to 3600000 milliseconds"),
        ["infinite restart backoff"] = (Train("--restart-backoff", "Infinity"), "--restart-backoff Infinity is out of range"),
        ["negative max restarts"] = (Train("--max-restarts", "-1"), "--max-restarts -1 is out of range: give a whole number from 0 to 1000"),
        ["negative keep"] = (Train("--keep", "-1"), "--keep -1 is out of range"),
        ["negative seed"] = (Train("--seed", "-1"), "--seed -1 is out of range"),
        ["metrics port 0"] = (Train("--metrics-port", "0"), "--metrics-port 0 is out of range: give a whole number from 1 to 65535"),
        ["metrics port 70000"] = (Train("--metrics-port", "70000"), "--metrics-port 70000 is out of range"),
        ["learning rate NaN"] = (Train("--lr", "nan"), "--lr NaN is out of range"),
        ["infinite learning rate"] = (Train("--lr", "Infinity"), "--lr Infinity is out of range"),
        ["negative learning rate"] = (Train("--lr", "-0.1"), "--lr -0.1 is out of range"),
        ["learning rate beyond the job's range"] = (Train("--lr", "100"), "--lr 100 is out of range for job mlp: give a number above 0 and at most 10"),
        ["zero steps"] = (Train("--steps", "0"), "--steps 0 is out of range"),
        ["negative epochs"] = (["train", "--job", "mlp", "--work-dir", "{work}", "--epochs", "-1"], "--epochs -1 is out of range"),
        ["zero batch size"] = (Train("--batch-size", "0"), "--batch-size 0 is out of range"),
        ["zero samples"] = (Train("--samples", "0"), "--samples 0 is out of range"),
        ["fewer samples than the batch"] = (Train("--samples", "10"), "--batch-size 64 is more than the 10 example(s) of job mlp's 10 samples; give a smaller --batch-size or more --samples"),
        ["charlm samples shorter than its context"] = (["train", "--job", "charlm", "--work-dir", "{work}", "--samples", "10"], "--samples 10 is out of range for job charlm: give 17 to 1000000"),
        ["zero width"] = (Train("--width", "0"), "--width 0 is out of range"),
        ["negative width"] = (Train("--width", "-1"), "--width -1 is out of range"),
        ["width of a 40 GB matrix"] = (Train("--width", "100000"), "--width 100000 is out of range for job mlp: give 1 to 16384"),
        ["cnn width beyond its range"] = (["train", "--job", "cnn", "--work-dir", "{work}", "--width", "5000"], "--width 5000 is out of range for job cnn: give 1 to 1024"),
        ["zero threads"] = (Train("--threads", "0"), "--threads 0 is out of range: give a whole number from 1 to 1024"),
        ["a hundred thousand threads"] = (Train("--threads", "100000"), "--threads 100000 is out of range: give a whole number from 1 to 1024"),
        ["ignore-keys that is not a regex"] = (Train("--ignore-keys", "("), "--ignore-keys '(' is not a valid regular expression"),
        ["revise-key that is not a regex"] = (Train("--revise-key", "(=x"), "--revise-key '(' is not a valid regular expression"),
        ["300-character name template"] = (Train("--name-template", LongTemplate), "makes names of up to 320 bytes; keep it to 200"),
        ["name template with an unknown placeholder"] = (Train("--name-template", "iter_{step}_{n}"), "has a brace that is not {n}"),
        ["name template with a newline"] = (Train("--name-template", "iter\n_{n}"), "must be a plain folder name"),
        ["work dir /dev/null"] = (["train", "--job", "mlp", "--work-dir", "/dev/null"], "--work-dir /dev/null is a file, not a folder; give a folder's path"),
        ["empty work dir"] = (["train", "--job", "mlp", "--work-dir", ""], "--work-dir is empty; give a path"),
        ["work dir that is a file"] = (["train", "--job", "mlp", "--work-dir", "{file}"], "is a file, not a folder"),
        ["work dir under a file"] = (["train", "--job", "mlp", "--work-dir", "{file}/run"], "is a file, not a folder; give a path under a folder"),
        ["empty resume path"] = (Train("--resume", ""), "--resume is empty; give a path"),
        ["empty load-from path"] = (Train("--load-from", ""), "--load-from is empty; give a path"),
        ["journal that is a device"] = (Train("--journal", "sqlite:/dev/null"), "journal /dev/null is a character device, not a regular file (refused); give a file's path"),
        ["journal in a missing folder"] = (Train("--journal", "sqlite:{work}-missing/journal.db"), "does not exist; create it or give another --journal sqlite:FILE"),
        ["config that is a folder"] = (["train", "--config", "{work}-parent", "--work-dir", "{work}"], "is a folder; give the config file's path"),
        ["config including a missing file"] = (["train", "--config", "{conf:include-missing.conf}"], "includes 'missing.conf', but"),
        ["config including itself"] = (["train", "--config", "{conf:self.conf}"], "levels deep; does a file include itself?"),
        ["config with ${HOME}"] = (["train", "--config", "{conf:home.conf}"], "at line 2: ${HOME} is not a setting of the file (environment variables are not read); write the value out"),
        ["config with an unclosed list"] = (["train", "--config", "{conf:unclosed.conf}"], "is not valid HOCON at line 3: '[' is never closed"),
        ["config with a stray brace"] = (["train", "--config", "{conf:stray.conf}"], "is not valid HOCON at line 2: '}' closes nothing"),
        ["config with an unterminated string"] = (["train", "--config", "{conf:string.conf}"], "is not valid HOCON at line 2: a quoted string is not closed on its line"),
        ["JSON config with an error on line 3"] = (["train", "--config", "{conf:broken.json}"], "is not valid at line 3: "),
        ["history of an empty work dir path"] = (["history", "--work-dir", ""], "--work-dir is empty; give a path"),
        ["history of /dev/null"] = (["history", "--work-dir", "/dev/null"], "--work-dir /dev/null is a file, not a folder"),
        ["status of a file"] = (["status", "--work-dir", "{file}"], "is a file, not a folder"),
        ["status watch every NaN seconds"] = (["status", "--work-dir", "{work}", "--watch", "--interval", "nan"], "--interval NaN is out of range"),
        ["plot of /dev/null"] = (["plot", "--work-dir", "/dev/null"], "--work-dir /dev/null is a file, not a folder"),
        ["plot to an empty path"] = (["plot", "--work-dir", "{work}-parent", "--out", ""], "--out is empty; give a path"),
        ["checkpoints of an empty path"] = (["checkpoints", "list", ""], "checkpoints list: the path is empty"),
        ["checkpoints of /dev/null"] = (["checkpoints", "verify", "/dev/null"], "/dev/null is not a directory"),
    };

    private static readonly Dictionary<string, string> Configs = new()
    {
        ["include-missing.conf"] = "include \"missing.conf\"\njob = mlp\n",
        ["self.conf"] = "include \"self.conf\"\njob = mlp\n",
        ["home.conf"] = "job = mlp\nworkDir = ${HOME}/run\nsteps = 5\n",
        ["unclosed.conf"] = "job = mlp\nsteps = 5\noops = [\n",
        ["stray.conf"] = "job = mlp\nsteps = 5 }\n",
        ["string.conf"] = "job = mlp\n\"steps = 5\n",
        ["broken.json"] = "{\n  \"job\": \"mlp\",\n  \"steps\": ,\n}\n",
    };

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    public static TheoryData<string> Inputs => [.. Rows.Keys];

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Bad_input_is_one_line_exit_2_and_leaves_nothing_behind(string input)
    {
        var (args, expected) = Rows[input];
        var parent = _temp.Sub("parent");
        Directory.CreateDirectory(parent);
        var work = Path.Combine(parent, "work");
        File.WriteAllText(_temp.Sub("plain-file"), "not a folder");
        foreach (var (name, text) in Configs)
        {
            File.WriteAllText(Path.Combine(parent, name), text);
        }

        var result = CliProcess.Run(args.Select(a => Expand(a, parent, _temp.Sub("plain-file"))));

        Assert.True(result.ExitCode == 2, $"{input}: {result}");
        var line = Assert.Single(result.Error.Trim().Split('\n'));
        Assert.StartsWith("error: ", line);
        Assert.Contains(expected, line);
        Assert.DoesNotContain("   at ", result.Error);
        Assert.DoesNotContain("Exception", result.Error);
        Assert.False(Directory.Exists(work), $"{input}: the refused command made the work dir {work}");
        Assert.Equal(Configs.Keys.Order(StringComparer.Ordinal), Directory.GetFileSystemEntries(parent).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    private static string Expand(string arg, string parent, string file) => arg.StartsWith("{conf:", StringComparison.Ordinal)
        ? Path.Combine(parent, arg["{conf:".Length..^1])
        : arg.Replace("{work}-missing", Path.Combine(parent, "missing"), StringComparison.Ordinal)
            .Replace("{work}-parent", parent, StringComparison.Ordinal)
            .Replace("{work}", Path.Combine(parent, "work"), StringComparison.Ordinal)
            .Replace("{file}", file, StringComparison.Ordinal);

    private static string[] Train(params string[] more) =>
        ["train", "--job", "mlp", "--work-dir", "{work}", .. more];
}
