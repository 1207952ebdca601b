namespace Orchestrator.Actors.Job.Checkpoints;

/// <summary>
/// The weights digest every replica reports after a start or a buffer sync: all must match rank 0's, or a
/// replica has diverged and the job restarts it.
/// </summary>
internal sealed class ReplicaDigests(int ranks)
{
    private readonly string?[] _digests = new string?[ranks];

    public static ReplicaDigests None { get; } = new(0);

    /// <summary>Rank 0's digest, the job's weights (null before it reported).</summary>
    public string? OfRankZero => _digests.FirstOrDefault();

    public void Record(int rank, string weightsSha256) => _digests[rank] = weightsSha256;

    /// <summary>The first rank whose digest differs from rank 0's, if any.</summary>
    public int? DivergedRank()
    {
        for (var rank = 1; rank < _digests.Length; rank++)
        {
            if (_digests[rank] != _digests[0])
            {
                return rank;
            }
        }
        return null;
    }

    /// <summary>The two digests side by side, shortened, for the failure's reason.</summary>
    public string Compare(int rank) => $"weights {_digests[rank]![..12]} vs {_digests[0]![..12]}";
}
