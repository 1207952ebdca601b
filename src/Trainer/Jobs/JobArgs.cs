using System.Collections.Concurrent;
using System.Globalization;

namespace Orchestrator.Trainer.Jobs;

/// <summary>
/// A job's arguments (<c>--job-arg KEY=VALUE</c>, or <c>jobArgs</c> in a config file): text keyed by name,
/// read with typed getters that name the key when a value is bad. It remembers which keys the job read, so a
/// key the job never reads is refused as unknown before anything runs, rather than silently ignored.
/// </summary>
public sealed class JobArgs
{
    private readonly IReadOnlyDictionary<string, string> _values;
    private readonly ConcurrentDictionary<string, bool> _read = new(StringComparer.Ordinal);

    public JobArgs(IReadOnlyDictionary<string, string> values)
    {
        foreach (var key in values.Keys.Where(k => string.IsNullOrWhiteSpace(k)))
        {
            throw new JobArgumentException(key, "a job argument needs a name (KEY=VALUE)");
        }
        _values = new Dictionary<string, string>(values, StringComparer.Ordinal);
    }

    public static JobArgs Empty => new(new Dictionary<string, string>());

    /// <summary>Every key given, in order of name.</summary>
    public IReadOnlyList<string> Keys => _values.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>The keys read so far by any getter (also when absent, so a default counts as known).</summary>
    public IReadOnlyList<string> KeysRead => _read.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>Keys given but never read: after a job's <c>Create</c>, arguments the job does not know.</summary>
    public IReadOnlyList<string> Unread => _values.Keys.Where(k => !_read.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();

    /// <summary>After <paramref name="job"/>'s <c>Create</c>: refuses any argument it never read, naming the ones it reads.</summary>
    public void RefuseUnread(string job)
    {
        if (Unread is { Count: > 0 } unknown)
        {
            var reads = KeysRead;
            throw new JobArgumentException(unknown[0], $"job '{job}' does not know job argument(s) {string.Join(", ", unknown)} (it reads: {(reads.Count > 0 ? string.Join(", ", reads) : "none")})");
        }
    }

    /// <summary>The values as given, for recording in the journal and in checkpoints.</summary>
    public IReadOnlyDictionary<string, string> ToDictionary() => new SortedDictionary<string, string>(_values.ToDictionary(), StringComparer.Ordinal);

    public bool Has(string key)
    {
        _read[key] = true;
        return _values.ContainsKey(key);
    }

    public string? OptionalString(string key) => Raw(key);

    public string String(string key, string defaultValue) => Raw(key) ?? defaultValue;

    public string RequiredString(string key) => Raw(key) ?? throw new JobArgumentException(key, $"job argument '{key}' is required (--job-arg {key}=VALUE)");

    public int Int(string key, int defaultValue) => Parse(key, defaultValue, "a whole number", text => (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v), v));

    public int? OptionalInt(string key) => Has(key) ? Int(key, 0) : null;

    public long Long(string key, long defaultValue) => Parse(key, defaultValue, "a whole number", text => (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v), v));

    public long? OptionalLong(string key) => Has(key) ? Long(key, 0) : null;

    public double Double(string key, double defaultValue) =>
        Parse(key, defaultValue, "a number", text => (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v), v));

    public double? OptionalDouble(string key) => Has(key) ? Double(key, 0) : null;

    public bool Bool(string key, bool defaultValue) => Parse(key, defaultValue, "true or false", text => (bool.TryParse(text, out var v), v));

    public TEnum Enum<TEnum>(string key, TEnum defaultValue) where TEnum : struct, System.Enum =>
        Parse(key, defaultValue, $"one of {string.Join(", ", System.Enum.GetNames<TEnum>().Select(n => n.ToLowerInvariant()))}",
            text => (System.Enum.TryParse<TEnum>(text, ignoreCase: true, out var v) && System.Enum.IsDefined(v), v));

    private string? Raw(string key)
    {
        _read[key] = true;
        return _values.GetValueOrDefault(key);
    }

    private T Parse<T>(string key, T defaultValue, string expected, Func<string, (bool Ok, T Value)> parse)
    {
        if (Raw(key) is not { } text)
        {
            return defaultValue;
        }
        var (ok, value) = parse(text.Trim());
        return ok ? value : throw new JobArgumentException(key, $"job argument {key}='{text}' is not {expected}");
    }
}

/// <summary>A job argument that is missing, unknown or not of the type the job reads it as.</summary>
public sealed class JobArgumentException(string key, string message) : ArgumentException(message)
{
    public string Key { get; } = key;
}
