using System.Globalization;

namespace Orchestrator.Cli.Terminal.Watch;

/// <summary>
/// The watch for a log or CI (output redirected): one line whenever something worth a line changed (state,
/// step, checkpoint, restarts, a node's health), no escape codes, no redrawing.
/// </summary>
internal sealed class PlainWatchView(TextWriter output)
{
    private readonly Dictionary<string, string> _shown = new(StringComparer.Ordinal);

    public void Show(WatchSnapshot snapshot)
    {
        if (snapshot.Notice is { } notice)
        {
            WriteIfChanged("notice", notice, $"{Time(snapshot.At)} {notice}");
        }
        else
        {
            _shown.Remove("notice");
        }
        foreach (var node in snapshot.Nodes)
        {
            WriteIfChanged($"node {node.Address}", NodeLine(node), $"{Time(snapshot.At)} {NodeLine(node)}");
        }
        var named = snapshot.Jobs.Length > 1 || snapshot.Nodes.Length > 0;
        foreach (var job in snapshot.Jobs)
        {
            WriteIfChanged($"job {job.WorkDir}", ChangeKey(job), JobLine(job, snapshot.At, named));
        }
    }

    /// <summary>
    /// <c>12:00:03 running step 340/1000 loss 0.4123 3.2 steps/s eta 3 min ckpt iter_300 (4 s ago) restarts 1</c>;
    /// with <paramref name="named"/> (a cluster), the work dir comes after the time.
    /// </summary>
    public static string JobLine(JobSnapshot job, DateTimeOffset now, bool named = false)
    {
        var line = new System.Text.StringBuilder(Time(now));
        if (named)
        {
            line.Append(' ').Append(job.WorkDir).Append(':');
        }
        line.Append(' ').Append(job.State);
        if (job.Why is { } why)
        {
            line.Append(" (").Append(why).Append(')');
        }
        line.Append(" step ").Append(WatchFormat.Progress(job));
        line.Append(" loss ").Append(WatchFormat.Loss(job.Loss));
        if (job.StepsPerSecond is not null)
        {
            line.Append(' ').Append(WatchFormat.Rate(job.StepsPerSecond));
        }
        if (job.Eta is { } eta)
        {
            line.Append(" eta ").Append(WatchFormat.Duration(eta));
        }
        line.Append(" ckpt ").Append(WatchFormat.Checkpoint(job, now));
        line.Append(" restarts ").Append(job.Restarts.ToString(CultureInfo.InvariantCulture));
        if (job.Failures is { } failures)
        {
            line.Append(" failures ").Append(failures.ToString(CultureInfo.InvariantCulture));
        }
        if (job.RankNodes.Length > 0)
        {
            line.Append(" ranks ").Append(string.Join(",", job.RankNodes.Select(WatchFormat.Node)));
        }
        return line.ToString();
    }

    /// <summary><c>node 10.0.0.5:4053 up cpu,cuda:0 ranks /runs/a#0,/runs/a#1</c>, and the problem if there is one.</summary>
    public static string NodeLine(NodeSnapshot node) =>
        $"node {WatchFormat.Node(node.Address)} {node.Health} {string.Join(",", node.Devices)}" +
        $" ranks {(node.Ranks.Length > 0 ? string.Join(",", node.Ranks) : "none")}{(node.Problem is { } p ? $" ({p})" : "")}";

    // Ages, rates and the ETA move on every poll; a line is written when the job itself moved.
    private static string ChangeKey(JobSnapshot job) =>
        $"{job.State}|{job.Why}|{job.Step}|{job.Checkpoint}|{job.Restarts}|{job.Failures}|{string.Join(",", job.RankNodes)}";

    private void WriteIfChanged(string subject, string key, string line)
    {
        if (_shown.TryGetValue(subject, out var previous) && previous == key)
        {
            return;
        }
        _shown[subject] = key;
        output.WriteLine(line);
        output.Flush();
    }

    // In the snapshot's own offset: sources take local time, tests a fixed one.
    private static string Time(DateTimeOffset at) => at.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
}
