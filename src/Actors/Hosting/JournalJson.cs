using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Serialization;
using Newtonsoft.Json;

namespace Orchestrator.Actors.Hosting;

/// <summary>
/// How Akka's JSON serializer writes what the journal stores and the cluster sends (job specs, events,
/// coordinator messages). Akka's default leaves out every value equal to its type's default (0, false), and
/// reading it back fills in the record's own default instead: a job submitted with <c>--max-restarts 0</c>
/// came back as 5, <c>--non-strict</c> as strict. Every value is written here.
/// </summary>
/// <remarks>
/// Journals written before this (up to wire protocol 6) lack those values; they replay with the record's
/// defaults, as they always did. The supervisor runs on the spec it is given, so a rerun of <c>train</c> was
/// never affected; what a coordinator replays and <c>history</c> shows was.
/// </remarks>
public static class JournalJson
{
    public static NewtonSoftJsonSerializerSetup Setup { get; } =
        NewtonSoftJsonSerializerSetup.Create(settings => settings.DefaultValueHandling = DefaultValueHandling.Include);

    /// <summary>A system setup with <paramref name="bootstrap"/> and this serializer setting (for tests and tools that build their own system).</summary>
    public static ActorSystemSetup With(BootstrapSetup bootstrap) => ActorSystemSetup.Create(bootstrap, Setup);
}
