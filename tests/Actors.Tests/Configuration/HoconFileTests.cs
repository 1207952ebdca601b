using Orchestrator.Actors.Configuration;

namespace Orchestrator.Actors.Tests.Configuration;

/// <summary>
/// A config file is read whole or refused naming the file and the line: Akka's parser alone takes an unclosed
/// bracket for the end of the file (dropping what follows, TLS included) and fails on include and
/// environment substitutions with a NullReferenceException or a FormatException.
/// </summary>
public sealed class HoconFileTests : IDisposable
{
    private const string Tls = """
        akka.remote.dot-netty.tcp {
          enable-ssl = true
          ssl { suppress-validation = true }
        }
        """;

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("oops = [", "5: '[' is never closed")]
    [InlineData("oops = {", "5: '{' is never closed")]
    [InlineData("oops = ]", "5: ']' closes nothing that is open")]
    [InlineData("oops = \"open", "5: a quoted string is not closed on its line")]
    [InlineData("include \"other.conf\"", "5: include is not supported (put the settings in this file itself)")]
    [InlineData("include required(file(\"x\"))", "5: include is not supported (put the settings in this file itself)")]
    [InlineData("home = ${HOME}", "5: the substitution ${HOME} is not supported in this file (write the value itself)")]
    [InlineData("home = ${?HOME}", "5: the substitution ${?HOME} is not supported in this file (write the value itself)")]
    public void A_file_with_a_mistake_after_its_tls_settings_is_refused_naming_file_and_line(string mistake, string problem)
    {
        var file = Write($"{Tls}\n{mistake}\n");

        var refused = Assert.Throws<HoconFileException>(() => HoconFile.Read(file));

        Assert.Equal($"config file {file} is not valid HOCON at line {problem}", refused.Message);
    }

    [Fact]
    public void A_valid_file_is_read_whole_with_brackets_quotes_and_comments_that_only_look_like_mistakes()
    {
        var file = Write($$""""
            # an unclosed [ in a comment, and ${HOME} too
            {{Tls}}
            // include "nothing.conf"
            text = "a [ { ${HOME} include \" inside a string"
            block = """several
            lines with ] and }"""
            list = [1, 2, {a = [3]}]
            included = "include"
            """");

        var config = HoconFile.Read(file);

        Assert.True(config.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        Assert.Equal("a [ { ${HOME} include \" inside a string", config.GetString("text"));
        Assert.Equal("several\nlines with ] and }", config.GetString("block"));
        Assert.Equal("include", config.GetString("included"));
    }

    [Fact]
    public void The_shipped_cluster_configs_are_read_by_it()
    {
        var folder = Path.Combine(RepositoryRoot(), "cluster-config");
        foreach (var file in Directory.GetFiles(folder, "*.hocon"))
        {
            Assert.False(HoconFile.Read(file).IsEmpty, file);
        }
    }

    private string Write(string text)
    {
        var file = _temp.Sub($"{Guid.NewGuid():N}.hocon");
        File.WriteAllText(file, text);
        return file;
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Orchestrator.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("no Orchestrator.sln above the test's folder");
    }
}
