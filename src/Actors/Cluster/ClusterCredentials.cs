using System.Security.Cryptography;
using System.Text;
using Akka.Configuration;

namespace Orchestrator.Actors.Cluster;

/// <summary>
/// What a node shows to be let in: proof that it holds the cluster secret (an HMAC of a fresh nonce, so the
/// secret never travels) and the values of the settings every node must share, the wire protocol among them.
/// </summary>
public sealed class ClusterCredentials
{
    private readonly byte[] _secret;

    public ClusterCredentials(string secret, IReadOnlyList<KeyValuePair<string, string>> settings)
    {
        _secret = Encoding.UTF8.GetBytes(secret);
        Settings = settings;
    }

    public IReadOnlyList<KeyValuePair<string, string>> Settings { get; }

    /// <summary>No secret: anyone who reaches a node proves it (a node runs so only when told --insecure).</summary>
    public bool IsOpen => _secret.Length == 0;

    public static ClusterCredentials From(Config config)
    {
        var keys = (config.GetStringList("orchestrator.cluster.must-match") ?? []).Distinct().Where(key => key != WireProtocol.SettingKey);
        var settings = keys.Select(key => new KeyValuePair<string, string>(key, config.HasPath(key) ? config.GetString(key) ?? "" : "")).ToList();
        settings.Add(new(WireProtocol.SettingKey, WireProtocol.Version.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        return new ClusterCredentials(config.GetString("orchestrator.cluster.secret", "") ?? "", settings);
    }

    public string Prove(string nonce) => Convert.ToHexStringLower(HMACSHA256.HashData(_secret, Encoding.UTF8.GetBytes(nonce)));

    /// <summary>Whether <paramref name="proof"/> is this secret's proof of <paramref name="subject"/> (compared in constant time).</summary>
    public bool Proves(string subject, string? proof) =>
        proof is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Prove(subject)), Encoding.ASCII.GetBytes(proof));

    public ChallengeAnswer Answer(Challenge challenge, string[] devices, string? joinedBy = null) =>
        new(Prove(challenge.Nonce), Settings.Select(s => s.Key).ToArray(), Settings.Select(s => s.Value).ToArray(), devices, joinedBy);

    /// <summary>Null when the answer proves the secret and every must-match setting agrees; otherwise why not.</summary>
    public string? Problem(string nonce, ChallengeAnswer answer)
    {
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Prove(nonce)), Encoding.ASCII.GetBytes(answer.Proof)))
        {
            return "its cluster secret does not match (give every node the same --secret-file or ORCHESTRATOR_SECRET)";
        }
        var theirs = answer.SettingKeys.Zip(answer.SettingValues).DistinctBy(p => p.Item1).ToDictionary(p => p.Item1, p => p.Item2);
        foreach (var (key, value) in Settings)
        {
            var other = theirs.GetValueOrDefault(key, "(missing)");
            if (other != value && key == WireProtocol.SettingKey)
            {
                return WireProtocol.Mismatch("it", theirs.GetValueOrDefault(key));
            }
            if (other != value)
            {
                return $"its setting {key} is '{other}' but the cluster uses '{value}' (use the same cluster config on every node)";
            }
        }
        return answer.Devices.Length == 0 ? "it offers no devices (--devices cpu,...)" : null;
    }

    public static string NewNonce() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
}
