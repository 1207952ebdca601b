namespace Orchestrator.Cli.Terminal.Watch;

/// <summary>
/// What a cluster job's successive statuses add up to: the coordinator reports the current step and loss
/// only, so the watch keeps the recent losses for the sparkline and measures the step rate from the steps it
/// has seen over the last <see cref="RateWindow"/>.
/// </summary>
internal sealed class StepTrail(int keepLosses)
{
    public static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(10);

    private readonly List<double> _losses = [];
    private readonly Queue<(DateTimeOffset At, long Step)> _seen = new();
    private long _lastStep = -1;

    public IReadOnlyList<double> Losses => _losses;

    public void Saw(long step, double loss, DateTimeOffset at)
    {
        if (step < _lastStep)
        {
            _seen.Clear(); // restarted from a checkpoint: the steps before say nothing about the rate now
        }
        if (step != _lastStep && double.IsFinite(loss) && step > 0)
        {
            _losses.Add(loss);
            if (_losses.Count > keepLosses)
            {
                _losses.RemoveAt(0);
            }
        }
        _lastStep = step;
        _seen.Enqueue((at, step));
        while (_seen.Count > 2 && at - _seen.Peek().At > RateWindow)
        {
            _seen.Dequeue();
        }
    }

    /// <summary>Steps per second over the window; null until two sightings some time apart.</summary>
    public double? StepsPerSecond
    {
        get
        {
            if (_seen.Count < 2)
            {
                return null;
            }
            var (firstAt, firstStep) = _seen.Peek();
            var elapsed = (_seen.Last().At - firstAt).TotalSeconds;
            return elapsed > 0 ? (_lastStep - firstStep) / elapsed : null;
        }
    }
}
