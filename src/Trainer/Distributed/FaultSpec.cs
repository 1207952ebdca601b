using System.Globalization;

namespace Orchestrator.Trainer.Distributed;

public enum FaultKind
{
    /// <summary>The rank throws inside its step.</summary>
    Crash,

    /// <summary>The rank never answers its step (detected by the step timeout).</summary>
    Hang,

    /// <summary>The rank's loss becomes NaN.</summary>
    Nan,

    /// <summary>The whole process is killed (SIGKILL) at the step boundary.</summary>
    KillProcess,
}

/// <summary>One injected fault: what, at which step, on which rank. <see cref="Id"/> is how the journal remembers it fired.</summary>
public sealed record FaultSpec(FaultKind Kind, long Step, int Rank)
{
    public string Id => $"{KindName(Kind)}@step={Step},rank={Rank}";

    /// <summary>Parses <c>crash@step=120,rank=1</c>, <c>hang@step=40</c>, <c>nan@step=7,rank=0</c>, <c>kill-process@step=90</c>.</summary>
    public static FaultSpec Parse(string text)
    {
        var at = text.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0)
        {
            throw new ArgumentException($"fault '{text}' must look like crash@step=120,rank=1 (kinds: crash, hang, nan, kill-process)");
        }
        var kind = text[..at] switch
        {
            "crash" => FaultKind.Crash,
            "hang" => FaultKind.Hang,
            "nan" => FaultKind.Nan,
            "kill-process" => FaultKind.KillProcess,
            var other => throw new ArgumentException($"unknown fault kind '{other}' in '{text}' (crash, hang, nan, kill-process)"),
        };
        long? step = null;
        var rank = 0;
        foreach (var part in text[(at + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var pair = part.Split('=', 2);
            if (pair.Length != 2 || !long.TryParse(pair[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < 0)
            {
                throw new ArgumentException($"fault '{text}': '{part}' must be step=N or rank=R");
            }
            switch (pair[0])
            {
                case "step":
                    step = value;
                    break;
                case "rank":
                    rank = checked((int)value);
                    break;
                default:
                    throw new ArgumentException($"fault '{text}': unknown setting '{pair[0]}' (step, rank)");
            }
        }
        if (step is not > 0)
        {
            throw new ArgumentException($"fault '{text}' needs step=N with N at least 1");
        }
        return new FaultSpec(kind, step.Value, rank);
    }

    private static string KindName(FaultKind kind) => kind == FaultKind.KillProcess ? "kill-process" : kind.ToString().ToLowerInvariant();
}

/// <summary>A fault the rank itself raises: the step throws.</summary>
public sealed class InjectedFaultException(string message) : Exception(message);
