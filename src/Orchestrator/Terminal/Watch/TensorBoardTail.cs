using Orchestrator.Trainer.Metrics;

namespace Orchestrator.Cli.Terminal.Watch;

/// <summary>What the watch takes from the TensorBoard files: the newest step, recent losses and the step rate.</summary>
internal sealed record TensorBoardScalars(long? LastStep, double[] RecentLosses, double? StepsPerSecond)
{
    public static readonly TensorBoardScalars None = new(null, [], null);
}

/// <summary>
/// Follows a work dir's TensorBoard files as training appends to them, reading only the new records on each
/// poll (a long job's files hold millions of scalars). A resumed run rewrites the files of the run it
/// replaces, dropping steps that run logged after its last checkpoint; a file that got shorter is the sign,
/// and then everything is read again.
/// </summary>
/// <remarks>
/// The rate is measured from the events' wall times over the last <see cref="RateWindow"/>: the logged
/// <c>train/steps_per_second</c> is each step's own rate, which jumps by a factor of ten between steps on a
/// busy machine. It is the fallback while fewer than two steps are known.
/// </remarks>
internal sealed class TensorBoardTail(string directory, int keepLosses)
{
    public static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(5);

    private const string LossTag = TensorBoardLog.LossTag;
    private const string RateTag = TensorBoardLog.StepsPerSecondTag;

    private readonly Dictionary<string, long> _readUpTo = new(StringComparer.Ordinal);
    private readonly SortedDictionary<long, double> _losses = [];
    private readonly Queue<(long Step, double WallTime)> _recentSteps = new();
    private (long Step, double WallTime) _newestStep;
    private (long Step, double Value)? _rate;

    public TensorBoardScalars Read()
    {
        if (!Directory.Exists(directory))
        {
            return TensorBoardScalars.None;
        }
        if (_readUpTo.Any(file => !File.Exists(file.Key) || new FileInfo(file.Key).Length < file.Value))
        {
            _readUpTo.Clear();
            _losses.Clear();
            _recentSteps.Clear();
            _rate = null;
        }
        foreach (var file in Directory.GetFiles(directory, TensorBoardFiles.FilePattern).Order(StringComparer.Ordinal))
        {
            ReadNew(file);
        }
        return new TensorBoardScalars(_losses.Count > 0 ? _losses.Keys.Last() : null, [.. _losses.Values], MeasuredRate() ?? _rate?.Value);
    }

    private double? MeasuredRate()
    {
        if (_recentSteps.Count < 2)
        {
            return null;
        }
        var (firstStep, firstTime) = _recentSteps.Peek();
        var (lastStep, lastTime) = _newestStep;
        return lastTime > firstTime ? (lastStep - firstStep) / (lastTime - firstTime) : null;
    }

    private void ReadNew(string file)
    {
        List<Tensorboard.Event> events;
        long end;
        try
        {
            (events, end) = TensorBoardFiles.ReadFrom(file, _readUpTo.GetValueOrDefault(file));
        }
        catch (FileNotFoundException)
        {
            return; // replaced between listing and opening; the next poll reads the new one
        }
        _readUpTo[file] = end;
        foreach (var e in events.Where(e => e.Summary is not null))
        {
            foreach (var value in e.Summary.Value)
            {
                if (value.Tag == LossTag)
                {
                    _losses[e.Step] = value.SimpleValue;
                    Stepped(e.Step, e.WallTime);
                }
                else if (value.Tag == RateTag && (_rate is null || e.Step >= _rate.Value.Step))
                {
                    _rate = (e.Step, value.SimpleValue);
                }
            }
        }
        while (_losses.Count > keepLosses)
        {
            _losses.Remove(_losses.Keys.First());
        }
    }

    private void Stepped(long step, double wallTime)
    {
        if (_recentSteps.Count > 0 && step <= _newestStep.Step)
        {
            _recentSteps.Clear(); // an older file's steps, read after a newer one's: start the window again
        }
        _recentSteps.Enqueue(_newestStep = (step, wallTime));
        while (_recentSteps.Count > 2 && wallTime - _recentSteps.Peek().WallTime > RateWindow.TotalSeconds)
        {
            _recentSteps.Dequeue();
        }
    }
}
