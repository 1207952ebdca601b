namespace Orchestrator.Actors.Job.Steps;

/// <summary>
/// One round of a protocol every rank must answer (start-up, a step's gradients, the buffer export and
/// import of a checkpoint, the applying of a step whose successor already runs): who has answered, and, when
/// the round times out, which rank is the hung one. A new round gets a new barrier.
/// </summary>
internal sealed class StepBarrier
{
    private readonly HashSet<int> _waiting;
    // Ranks that sent gradients this round; null where the round is not a step's gradients.
    private readonly HashSet<int>? _sentGradients;

    private StepBarrier(IEnumerable<int> waiting, bool tracksGradients)
    {
        _waiting = waiting.ToHashSet();
        _sentGradients = tracksGradients ? [] : null;
    }

    /// <summary>No round in progress: nobody is waited for.</summary>
    public static StepBarrier None { get; } = new([], tracksGradients: false);

    /// <summary>A round every one of <paramref name="ranks"/> ranks must answer.</summary>
    public static StepBarrier Of(int ranks) => new(Enumerable.Range(0, ranks), tracksGradients: false);

    /// <summary>A step's round: ranks send gradients, then report the step applied.</summary>
    public static StepBarrier ForStep(int ranks) => new(Enumerable.Range(0, ranks), tracksGradients: true);

    public bool IsWaiting => _waiting.Count > 0;

    /// <summary>Whether any rank sent gradients yet this round (the first chunk starts the step's synchronisation clock).</summary>
    public bool AnyGradients => _sentGradients is { Count: > 0 };

    public void GradientsFrom(int rank) => _sentGradients?.Add(rank);

    /// <summary>Marks <paramref name="rank"/> as answered; true once every rank has.</summary>
    public bool Arrive(int rank)
    {
        _waiting.Remove(rank);
        return _waiting.Count == 0;
    }

    /// <summary>A rank that never sent its gradients is the hung one; its peers are only waiting for it.</summary>
    public int HungRank()
    {
        var silent = _sentGradients is null ? [] : _waiting.Where(r => !_sentGradients.Contains(r)).ToList();
        return silent.Count > 0 ? silent.Min() : _waiting.Min();
    }
}
