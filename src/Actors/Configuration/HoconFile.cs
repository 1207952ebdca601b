using Akka.Configuration;

namespace Orchestrator.Actors.Configuration;

/// <summary>
/// A HOCON config file read strictly: a file that does not parse, or uses what this reader does not support
/// (include, substitutions), is an error naming the file and the line, never a config that silently lacks
/// the settings after the mistake.
/// </summary>
public static class HoconFile
{
    public static Config Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HoconFileException($"config file {path} cannot be read: {e.Message}");
        }
        return Parse(text, path);
    }

    /// <param name="origin">The file the text came from, for the message.</param>
    public static Config Parse(string text, string origin)
    {
        if (HoconSyntax.FirstError(text, HoconReferences.Refused) is var (line, problem))
        {
            throw new HoconFileException($"config file {origin} is not valid HOCON at line {line}: {problem}");
        }
        try
        {
            return ConfigurationFactory.ParseString(text);
        }
        // Akka's parser reports some malformed input as whatever broke inside it; every one of them means
        // the same to the user.
        catch (Exception e) when (e is ConfigurationException or FormatException or NullReferenceException or InvalidOperationException or ArgumentException)
        {
            throw new HoconFileException($"config file {origin} is not valid HOCON: {e.Message.Split('\n')[0].Trim()}");
        }
    }
}

/// <summary>A config file that cannot be used; the message is one line naming the file and the problem.</summary>
public sealed class HoconFileException(string message) : Exception(message);
