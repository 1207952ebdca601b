using Akka.Actor;
using Akka.Configuration;

namespace Orchestrator.Actors.Persistence;

/// <summary>The embedded reference.conf, and a system with a journal over it (for benchmarks; commands use <see cref="Hosting.OrchestratorActorSystem"/>).</summary>
public static class OrchestratorSystem
{
    public static Config Reference { get; } = LoadReference();

    public static ActorSystem Create(string name, JournalSettings journal, Config? overrides = null) =>
        Hosting.OrchestratorActorSystem.Named(name).WithHocon(overrides ?? Config.Empty).WithJournal(journal).Build();

    private static Config LoadReference()
    {
        using var stream = typeof(OrchestratorSystem).Assembly.GetManifestResourceStream("Orchestrator.Actors.reference.conf")
            ?? throw new InvalidOperationException("reference.conf is not embedded in Orchestrator.Actors");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }
}
