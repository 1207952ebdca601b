using System.Globalization;
using System.Text;

namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// Text read from a checkpoint (tensor names, manifest entries, job names, metadata, folder names) made safe
/// to print on one line: a name holding a newline or a terminal escape sequence could otherwise forge lines
/// of output, such as a <c>weights-sha256:</c> line. Control and format characters (newlines, ESC, bidi
/// overrides, line separators) become <c>\n</c>, <c>\r</c>, <c>\t</c> or <c>\u{XXXX}</c>. A backslash is kept
/// as it is, so escaping twice changes nothing and a message built from escaped parts can be escaped whole
/// again where it is printed. Ordinary text is returned as it is.
/// </summary>
public static class PrintableText
{
    public static string Escape(string? text)
    {
        if (text is null)
        {
            return "";
        }
        if (!text.Any(NeedsEscape))
        {
            return text;
        }
        var escaped = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            escaped.Append(c switch
            {
                '\n' => @"\n",
                '\r' => @"\r",
                '\t' => @"\t",
                _ when NeedsEscape(c) => $"\\u{{{(int)c:X4}}}",
                _ => c.ToString(),
            });
        }
        return escaped.ToString();
    }

    private static bool NeedsEscape(char c) =>
        char.GetUnicodeCategory(c) is UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;
}
