using Akka.Actor;
using Orchestrator.Actors.Gradients;
using Orchestrator.Actors.Rank;
using Orchestrator.Trainer.Distributed;

namespace Orchestrator.Actors.Job;

/// <summary>
/// How the supervisor makes the actor of one rank. The real one is <see cref="RankTrainer"/>; tests pass
/// an actor that answers the rank protocol by hand, so the supervisor's decisions are tested without
/// TorchSharp.
/// </summary>
public delegate Props RankProps(RankSpec spec, IActorRef supervisor, GradientLinkAddress? link);

public static class RankPropsDefaults
{
    public static readonly RankProps Trainer = (spec, supervisor, link) => RankTrainer.Props(spec, supervisor, link);
}
