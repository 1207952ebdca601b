using System.Text.RegularExpressions;

namespace Orchestrator.Actors.Configuration;

/// <summary>Whether a file may use HOCON's <c>include</c> and <c>${...}</c> (its reader resolves them itself).</summary>
public enum HoconReferences
{
    /// <summary>A node's or client's config: settings written out in the file itself.</summary>
    Refused,

    /// <summary>A train config: its reader resolves includes from the file's folder and substitutions within the file.</summary>
    Allowed,
}

/// <summary>
/// What Akka's HOCON parser lets through but must not pass for a config: it takes an unclosed <c>[</c> or
/// <c>{</c> at the end of a file as the end of the file (so <c>oops = [</c> drops every setting after it,
/// TLS included, without a word), it reads a stray <c>}</c> and an unterminated string as whatever it makes
/// of them, and it fails on <c>include</c> and on <c>${HOME}</c>-style environment substitutions with a
/// NullReferenceException or a FormatException. This scan finds those before Akka sees the text and names
/// the line. One scan serves every config file the program reads.
/// </summary>
public static partial class HoconSyntax
{
    /// <summary>Null when the text has none of those problems; otherwise the first and its line.</summary>
    public static (int Line, string Problem)? FirstError(string text, HoconReferences references)
    {
        var open = new Stack<(char Bracket, int Line)>();
        var line = 1;
        var keyMayStart = true; // at the start of the text, a line, or after '{' or ','
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\n')
            {
                line++;
                keyMayStart = true;
                continue;
            }
            if (char.IsWhiteSpace(c))
            {
                continue;
            }
            if (c == '#' || (c == '/' && At(text, i, "//")))
            {
                i = EndOfLine(text, i) - 1;
                continue;
            }
            if (c == '"')
            {
                var start = line;
                if (!SkipString(text, ref i, ref line))
                {
                    return (start, SkipStringProblem(text, i));
                }
                keyMayStart = false;
                continue;
            }
            if (references == HoconReferences.Refused && c == '$' && At(text, i, "${"))
            {
                var end = text.IndexOf('}', i);
                var name = end < 0 ? text[(i + 2)..EndOfLine(text, i)] : text[(i + 2)..end];
                return (line, $"the substitution ${{{name}}} is not supported in this file (write the value itself)");
            }
            if (references == HoconReferences.Refused && keyMayStart && IncludeDirective().IsMatch(text.AsSpan(i)))
            {
                return (line, "include is not supported (put the settings in this file itself)");
            }
            switch (c)
            {
                case '{' or '[':
                    open.Push((c, line));
                    keyMayStart = c == '{';
                    continue;
                case '}' or ']':
                    if (open.Count == 0)
                    {
                        return (line, $"'{c}' closes nothing that is open");
                    }
                    if (open.Peek().Bracket != (c == '}' ? '{' : '['))
                    {
                        return (line, $"'{c}' closes the '{open.Peek().Bracket}' of line {open.Peek().Line}");
                    }
                    open.Pop();
                    keyMayStart = false;
                    continue;
                case ',':
                    keyMayStart = true;
                    continue;
                default:
                    keyMayStart = false;
                    continue;
            }
        }
        return open.Count == 0 ? null : (open.Peek().Line, $"'{open.Peek().Bracket}' is never closed");
    }

    private static bool At(string text, int i, string what) => string.CompareOrdinal(text, i, what, 0, what.Length) == 0;

    private static int EndOfLine(string text, int i) => text.IndexOf('\n', i) is var end and >= 0 ? end : text.Length;

    // Why the string that starts at i did not end: a plain "..." string may not run past its line.
    private static string SkipStringProblem(string text, int i) =>
        i < text.Length && text[i] == '\n' ? "a quoted string is not closed on its line" : "a quoted string is never closed";

    // A quoted string ("..." with escapes, or """...""" without); i ends on its last quote.
    private static bool SkipString(string text, ref int i, ref int line)
    {
        if (At(text, i, "\"\"\""))
        {
            var end = text.IndexOf("\"\"\"", i + 3, StringComparison.Ordinal);
            if (end < 0)
            {
                return false;
            }
            line += text.AsSpan(i, end - i).Count('\n');
            i = end + 2;
            while (i + 1 < text.Length && text[i + 1] == '"')
            {
                i++; // """ may end with extra quotes that belong to the text
            }
            return true;
        }
        for (i++; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '\\':
                    i++;
                    break;
                case '"':
                    return true;
                case '\n':
                    return false; // a single-quoted string ends on its own line
            }
        }
        return false;
    }

    [GeneratedRegex(@"^include\s+(""|(required|file|url|classpath)\s*\()")]
    private static partial Regex IncludeDirective();
}
