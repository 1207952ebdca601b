using System.Globalization;

namespace Orchestrator.Cli.Commands;

/// <summary>
/// A command's arguments split into positionals, <c>--name value</c> options and <c>--flag</c> switches.
/// Anything not declared by the command is refused with the command's name, so typos never pass silently.
/// </summary>
internal sealed class ParsedArguments
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _repeated = new(StringComparer.Ordinal);
    private readonly HashSet<string> _switches = new(StringComparer.Ordinal);
    private readonly string _command;

    private ParsedArguments(string command) => _command = command;

    public List<string> Positionals { get; } = [];

    /// <param name="repeatable">Value options that may be given several times (see <see cref="Values"/>).</param>
    public static ParsedArguments Parse(
        string command, IEnumerable<string> args, IReadOnlySet<string> valueOptions, IReadOnlySet<string> switches, IReadOnlySet<string>? repeatable = null)
    {
        var parsed = new ParsedArguments(command);
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            var arg = e.Current;
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                parsed.Positionals.Add(arg);
                continue;
            }
            var name = arg;
            string? inlineValue = null;
            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                name = arg[..equals];
                inlineValue = arg[(equals + 1)..];
            }
            if (switches.Contains(name) && inlineValue is null)
            {
                parsed._switches.Add(name);
            }
            else if (valueOptions.Contains(name))
            {
                var value = inlineValue ?? (e.MoveNext() ? e.Current : throw new UsageException($"{name} needs a value (orchestrator {command} --help)"));
                if (repeatable?.Contains(name) == true)
                {
                    (parsed._repeated.TryGetValue(name, out var list) ? list : parsed._repeated[name] = []).Add(value);
                }
                else if (!parsed._values.TryAdd(name, value))
                {
                    throw new UsageException($"{name} is given twice");
                }
            }
            else
            {
                throw new UsageException($"unknown option {name} for '{command}' (orchestrator {command} --help lists them)");
            }
        }
        return parsed;
    }

    public bool Has(string name) => _switches.Contains(name);

    public string? Value(string name) => _values.GetValueOrDefault(name);

    public IReadOnlyList<string> Values(string name) => _repeated.TryGetValue(name, out var values) ? values : [];

    public long? Long(string name) => Value(name) is { } text
        ? long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : throw Bad(name, text, "a whole number")
        : null;

    public int? Int(string name) => Long(name) is { } value
        ? value is >= int.MinValue and <= int.MaxValue ? (int)value : throw Bad(name, value.ToString(CultureInfo.InvariantCulture), "a smaller number")
        : null;

    public double? Double(string name) => Value(name) is { } text
        ? double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : throw Bad(name, text, "a number")
        : null;

    private UsageException Bad(string name, string text, string expected) =>
        new($"{name} '{text}' is not {expected} (orchestrator {_command} --help)");
}
