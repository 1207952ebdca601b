namespace Orchestrator.Cli.Commands;

/// <summary>
/// The structural checks Akka's HOCON parser leaves out: it accepts an unclosed <c>[</c> or <c>{</c>, a stray
/// <c>}</c> and an unterminated string, and reads whatever it makes of them. This scan refuses those with
/// the file and line, so a config that does not parse is an error, never a silently different setting.
/// </summary>
internal static class HoconSyntax
{
    /// <summary>Null when the brackets and strings of <paramref name="text"/> are well formed; else the first problem and its line.</summary>
    public static (int Line, string Problem)? FirstError(string text)
    {
        var open = new Stack<(char Bracket, int Line)>();
        var line = 1;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            switch (c)
            {
                case '\n':
                    line++;
                    break;
                case '#':
                case '/' when i + 1 < text.Length && text[i + 1] == '/':
                    while (i + 1 < text.Length && text[i + 1] != '\n')
                    {
                        i++;
                    }
                    break;
                case '"' when string.CompareOrdinal(text, i, "\"\"\"", 0, 3) == 0:
                    var end = text.IndexOf("\"\"\"", i + 3, StringComparison.Ordinal);
                    if (end < 0)
                    {
                        return (line, "a \"\"\" string is never closed");
                    }
                    line += text.AsSpan(i, end - i).Count('\n');
                    i = end + 2;
                    break;
                case '"':
                    var start = line;
                    for (i++; i < text.Length && text[i] != '"'; i++)
                    {
                        if (text[i] == '\n')
                        {
                            return (start, "a quoted string is not closed on its line");
                        }
                        if (text[i] == '\\')
                        {
                            i++;
                        }
                    }
                    if (i >= text.Length)
                    {
                        return (start, "a quoted string is never closed");
                    }
                    break;
                case '{' or '[':
                    open.Push((c, line));
                    break;
                case '}' or ']':
                    var expected = c == '}' ? '{' : '[';
                    if (open.Count == 0)
                    {
                        return (line, $"'{c}' closes nothing");
                    }
                    if (open.Peek().Bracket != expected)
                    {
                        return (line, $"'{c}' closes the '{open.Peek().Bracket}' of line {open.Peek().Line}");
                    }
                    open.Pop();
                    break;
            }
        }
        return open.Count > 0 ? (open.Peek().Line, $"'{open.Peek().Bracket}' is never closed") : null;
    }
}
