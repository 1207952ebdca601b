using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Jobs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SampleJobs;

/// <summary>
/// <c>fulljob</c>: a small regression that uses every feature of the training loop at once, so that one
/// resume test covers their interplay: gradient accumulation, clipping by global norm, AdamW with two
/// parameter groups, one of TorchSharp's own schedulers, and dropout drawn from a per-rank step generator.
/// Every setting is a job argument (<c>--job-arg KEY=VALUE</c>); the defaults turn everything on:
/// <c>batchSize</c> 32 (global), <c>samples</c> 512, <c>width</c> 32, <c>learningRate</c> 0.01, <c>dropout</c> 0.2,
/// <c>scheduler</c> cosine (or step, linear, onecycle; onecycle refuses more than 10 × schedulerSteps steps),
/// <c>schedulerSteps</c> 40, <c>accumulateSteps</c> 3, <c>clipGradientNorm</c> 0.5 (0: off), <c>diffRankSeed</c> true,
/// <c>optimizer</c> adamw (or sgd: Nesterov momentum; rmsprop: centered, with momentum), in two parameter groups;
/// <c>requestSaveAtLoss</c> N asks for a checkpoint at the N-th loss this process computes (0, the default: never).
/// </summary>
public sealed class FullJob : IJobDefinition
{
    public const string JobName = "fulljob";

    public string Name => JobName;

    public TrainingJob Create(JobContext context)
    {
        var args = context.Args;
        var batchSize = args.Int("batchSize", 32);
        var samples = args.Int("samples", 512);
        var width = args.Int("width", 32);
        var learningRate = args.Double("learningRate", 1e-2);
        var dropout = args.Double("dropout", 0.2);
        var schedule = args.Enum("scheduler", SchedulerKind.Cosine);
        var scheduleSteps = args.Int("schedulerSteps", 40);
        var accumulate = args.Int("accumulateSteps", 3);
        var clip = args.Double("clipGradientNorm", 0.5);
        var diffRankSeed = args.Bool("diffRankSeed", true);
        var optimizer = args.Enum("optimizer", OptimizerKind.AdamW);
        // The job asks for a checkpoint (RequestSave) at its N-th loss in this process: 0, never.
        var requestSaveAt = args.Int("requestSaveAtLoss", 0);
        var losses = 0;
        TrainingJob? job = null;

        var (x, y) = Data(context.Seed, samples);
        var random = new Generator(0); // reseeded before every micro-batch by the loop
        var model = new DropoutMlp(width, dropout, random).to(context.Device);
        var parameters = model.named_parameters().ToList();
        // Weight decay for the weights, none for the biases: the usual reason for two groups.
        var weights = parameters.Where(p => !p.name.EndsWith("bias", StringComparison.Ordinal)).Select(p => p.parameter).ToList();
        var biases = parameters.Where(p => p.name.EndsWith("bias", StringComparison.Ordinal)).Select(p => p.parameter).ToList();
        job = new TrainingJob
        {
            Name = JobName,
            Model = model,
            Optimizer = Optimizer(optimizer, weights, biases, learningRate),
            Scheduler = SchedulerFactory(schedule, scheduleSteps, learningRate),
            AccumulateSteps = accumulate,
            ClipGradientNorm = clip > 0 ? clip : null,
            Random = random,
            DiffRankSeed = diffRankSeed,
            Data = new ShuffledTensorDataset(x, y, batchSize, context.Rank, context.WorldSize),
            Loss = batch =>
            {
                if (++losses == requestSaveAt)
                {
                    job!.RequestSave();
                }
                return nn.functional.mse_loss(model.call(batch.Input), batch.Target);
            },
            Device = context.Device,
        };
        return job;
    }

    public enum OptimizerKind
    {
        AdamW,
        Sgd,
        RmsProp,
    }

    private static optim.Optimizer Optimizer(OptimizerKind kind, List<Parameter> weights, List<Parameter> biases, double learningRate) => kind switch
    {
        // A group's constructor sets every option it takes, so each group names its momentum itself.
        OptimizerKind.Sgd => new Orchestrator.Trainer.Training.SGD(
            [new SGD.ParamGroup(weights, learningRate, momentum: 0.9, weight_decay: 0.05, nesterov: true), new SGD.ParamGroup(biases, learningRate, momentum: 0.9, nesterov: true)],
            learningRate),
        OptimizerKind.RmsProp => new Orchestrator.Trainer.Training.RMSProp(
            [new RMSProp.ParamGroup(weights, learningRate / 10, weight_decay: 0.05, momentum: 0.5, centered: true), new RMSProp.ParamGroup(biases, learningRate / 10, momentum: 0.5, centered: true)],
            learningRate / 10),
        _ => new Orchestrator.Trainer.Training.AdamW(
            [new AdamW.ParamGroup(weights, learningRate, weight_decay: 0.05), new AdamW.ParamGroup(biases, learningRate, weight_decay: 0)], learningRate),
    };

    public enum SchedulerKind
    {
        Step,
        Cosine,
        Linear,
        OneCycle,
    }

    private static Func<optim.Optimizer, optim.lr_scheduler.LRScheduler> SchedulerFactory(SchedulerKind kind, int steps, double learningRate) => kind switch
    {
        SchedulerKind.Step => o => optim.lr_scheduler.StepLR(o, Math.Max(1, steps / 4), 0.5),
        SchedulerKind.Cosine => o => optim.lr_scheduler.CosineAnnealingLR(o, steps, learningRate / 20),
        SchedulerKind.Linear => o => optim.lr_scheduler.LinearLR(o, 0.25, 1.0, steps),
        // OneCycle refuses steps past its total: give it room for any run the tests make.
        _ => o => optim.lr_scheduler.OneCycleLR(o, learningRate, steps * 10),
    };

    /// <summary>y = sin(x·w) + noise, made from the job's seed alone (the same on every rank).</summary>
    private static (Tensor X, Tensor Y) Data(long seed, int samples)
    {
        using var generator = new Generator(unchecked((ulong)seed) ^ 0x66756C6CUL);
        var x = randn([samples, 8], generator: generator);
        using var direction = randn([8, 1], generator: generator);
        using var noise = randn([samples, 1], generator: generator);
        using var noiseScale = 0.05.ToScalar(); // held: an inline Scalar may be freed mid-call by the finalizer
        using var one = 1.0.ToScalar();
        using var scaledNoise = noise.mul(noiseScale);
        using var wave = x.matmul(direction).sin_();
        var y = wave.add(scaledNoise, alpha: one);
        return (x, y);
    }

    private sealed class DropoutMlp : nn.Module<Tensor, Tensor>
    {
        private readonly Linear hidden;
        private readonly Linear output;
        private readonly double _dropout;
        private readonly Generator _random;

        public DropoutMlp(int width, double dropout, Generator random) : base(nameof(DropoutMlp))
        {
            hidden = nn.Linear(8, width);
            output = nn.Linear(width, 1);
            _dropout = dropout;
            _random = random;
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var h = nn.functional.relu(hidden.call(input));
            if (!training || _dropout <= 0)
            {
                return output.call(h);
            }
            // Dropout by hand: TorchSharp's draws from the default generator, which ranks in one process share.
            using var threshold = _dropout.ToScalar();
            using var scale = (1 / (1 - _dropout)).ToScalar();
            using var draws = rand(h.shape, generator: _random);
            using var keep = draws.ge(threshold);
            using var kept = h.mul(keep).mul_(scale);
            return output.call(kept);
        }
    }
}
