using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Jobs;
using Orchestrator.Trainer.Jobs.Loading;
using Orchestrator.Trainer.Runtime;
using Orchestrator.Trainer.Tensors;
using Orchestrator.Trainer.Training;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Distributed;

/// <summary>
/// One data-parallel replica: its model, optimizer and data shard. It computes gradients on its shard, takes
/// back the averaged gradients and applies them, and shares its buffers for averaging before a checkpoint.
/// Every call must come from one thread (TorchSharp dispose scopes are per thread).
/// </summary>
public sealed class RankWorker : IDisposable
{
    // Replicas are built one at a time with the same seed, so every rank starts from identical weights
    // even though they share the process-wide torch generator.
    private static readonly Lock ConstructionGate = new();

    private readonly TrainingState _state;
    private readonly List<Tensor> _parameters;
    private readonly List<Tensor> _floatBuffers;
    private float[]? _gradients;

    private RankWorker(RankSpec spec, JobArgs args, TrainingJob job)
    {
        Spec = spec;
        var arguments = args.ToDictionary();
        _state = new TrainingState(job, spec.JobOptions.Seed, spec.ModelLoad, spec.Rank)
        {
            JobAssembly = spec.JobAssembly,
            JobArgs = spec.JobAssembly is null || arguments.Count == 0 ? null : arguments,
        };
        _parameters = job.Model.parameters().Select(p => (Tensor)p).ToList();
        _floatBuffers = job.Model.named_buffers().Where(b => b.Item2.dtype == ScalarType.Float32).OrderBy(b => b.Item1, StringComparer.Ordinal).Select(b => b.Item2).ToList();
        if (_parameters.Any(p => p.dtype != ScalarType.Float32))
        {
            throw new NotSupportedException("data-parallel training averages float32 parameters only");
        }
    }

    public RankSpec Spec { get; }

    public TrainingCounters Counters => _state.Counters;

    public static RankWorker Create(RankSpec spec)
    {
        // Resolved (and the assembly's hash checked) before seeding, so loading a job library never draws from
        // the generator the replica's initialisation uses.
        var definition = JobResolver.Resolve(spec.Job, spec.JobAssembly);
        var context = spec.Context();
        lock (ConstructionGate)
        {
            DeterministicRuntime.Configure(spec.JobOptions.Seed, spec.Threads);
            return new RankWorker(spec, context.Args, JobFactory.Create(definition, context));
        }
    }

    /// <summary>Optimizer steps per epoch: the shard's batches over the job's micro-batches per step.</summary>
    public long StepsPerEpoch => _state.StepsPerEpoch;

    /// <summary>The learning rate the next step will use.</summary>
    public double LearningRate => _state.LearningRate;

    public RestoreReport Resume(LoadedCheckpoint checkpoint, bool skipOptimizer, bool skipScheduler) => _state.Resume(checkpoint, skipOptimizer, skipScheduler);

    public RestoreReport LoadWeights(LoadedCheckpoint checkpoint) => _state.LoadWeights(checkpoint);

    /// <summary>
    /// Forward and backward on this rank's shard; returns the loss and the flattened gradients. The array is
    /// this replica's and is overwritten by the next call: by then every rank has applied the average of
    /// this step, so nobody reads it any more.
    /// </summary>
    public LocalGradients ComputeGradients(FaultKind? fault, CancellationToken cancel)
    {
        var step = _state.Counters.Iteration + 1;
        InjectBeforeCompute(fault, cancel);
        var (loss, samples) = _state.ComputeGradients(fault == FaultKind.Nan ? l => l * float.NaN : null);
        _gradients = FlatFloats.Gather(_parameters, FlatPart.Gradients, _gradients);
        return new LocalGradients(step, loss, samples, _gradients);
    }

    /// <summary>
    /// A whole step on this replica alone: with a single rank the average of the gradients is the gradients
    /// themselves, so they never leave the tensors (no copies, no messages) and the result is bit-identical.
    /// </summary>
    public (double Loss, long Samples) StepAlone(FaultKind? fault, CancellationToken cancel)
    {
        InjectBeforeCompute(fault, cancel);
        var (loss, samples) = _state.ComputeGradients(fault == FaultKind.Nan ? l => l * float.NaN : null);
        _state.ApplyStep(samples);
        return (loss, samples);
    }

    /// <summary>
    /// True once after the job called <see cref="TrainingJob.RequestSave"/>: the caller saves at this step
    /// boundary (in a data-parallel job, by asking the supervisor, which alone decides saves).
    /// </summary>
    public bool TakeSaveRequest() => _state.Job.TakeSaveRequest();

    /// <summary>
    /// Writes the averaged gradients into the parameters and takes the optimizer step; the job's clipping
    /// runs on the averaged gradients, so every rank clips the same way.
    /// </summary>
    public void ApplyGradients(ReadOnlySpan<float> averaged, long globalSamples)
    {
        FlatFloats.Scatter(averaged, _parameters, FlatPart.Gradients);
        _state.ApplyStep(globalSamples);
    }

    /// <summary>The float buffers (BatchNorm running statistics), flattened in name order.</summary>
    public float[] ExportBuffers() => FlatFloats.Gather(_floatBuffers, FlatPart.Values);

    public void ImportBuffers(ReadOnlySpan<float> values) => FlatFloats.Scatter(values, _floatBuffers, FlatPart.Values);

    private void InjectBeforeCompute(FaultKind? fault, CancellationToken cancel)
    {
        switch (fault)
        {
            case FaultKind.Crash:
                throw new InjectedFaultException($"injected crash on rank {Spec.Rank} at step {_state.Counters.Iteration + 1}");
            case FaultKind.Hang:
                cancel.WaitHandle.WaitOne();
                cancel.ThrowIfCancellationRequested();
                break;
        }
    }

    public string WeightsDigest() => Tensors.WeightsDigest.Of(_state.Job.Model);

    public PendingSnapshot Capture(string reason, bool inPlace = false) => _state.Capture(reason, Spec.Threads, inPlace);

    public void Dispose()
    {
        _state.WaitForCapture(); // a snapshot may still be copying from the tensors about to be freed
        _state.Job.Dispose();
    }
}

/// <summary>One rank's result of a forward and backward pass.</summary>
public sealed record LocalGradients(long Step, double Loss, long Samples, float[] Values);
