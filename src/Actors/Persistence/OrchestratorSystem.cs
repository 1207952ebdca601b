using Akka.Actor;
using Akka.Configuration;

namespace Orchestrator.Actors.Persistence;

/// <summary>Creates the actor system with the journal settings over the embedded reference.conf.</summary>
public static class OrchestratorSystem
{
    public static Config Reference { get; } = LoadReference();

    public static ActorSystem Create(string name, JournalSettings journal, Config? overrides = null) =>
        ActorSystem.Create(name, (overrides ?? Config.Empty).WithFallback(journal.ToConfig()).WithFallback(Reference));

    private static Config LoadReference()
    {
        using var stream = typeof(OrchestratorSystem).Assembly.GetManifestResourceStream("Orchestrator.Actors.reference.conf")
            ?? throw new InvalidOperationException("reference.conf is not embedded in Orchestrator.Actors");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }
}
