using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Training;

/// <summary>
/// The part of a step that <see cref="Adam"/> and <see cref="AdamW"/> share, in TorchSharp's order: the
/// moments move toward the gradient, and the parameter takes the bias-corrected step. The scalars are held
/// by the caller for the whole group (see <see cref="Adam"/> for why none may be made inline).
/// </summary>
internal sealed class AdamUpdate : IDisposable
{
    private readonly Scalar _beta1;
    private readonly Scalar _oneMinusBeta1;
    private readonly Scalar _beta2;
    private readonly Scalar _oneMinusBeta2;
    private readonly Scalar _eps;
    private readonly Scalar _one; // the alpha that add_(Scalar) would otherwise make inline

    public AdamUpdate(double beta1, double beta2, double eps)
    {
        (Beta1, Beta2) = (beta1, beta2);
        _beta1 = beta1.ToScalar();
        _oneMinusBeta1 = (1 - beta1).ToScalar();
        _beta2 = beta2.ToScalar();
        _oneMinusBeta2 = (1 - beta2).ToScalar();
        _eps = eps.ToScalar();
        _one = 1.0.ToScalar();
    }

    public double Beta1 { get; }

    public double Beta2 { get; }

    /// <summary>
    /// Step <paramref name="step"/> (counted from 1) of one parameter. <paramref name="gradientConjugate"/> is
    /// what the squared moment multiplies the gradient by: Adam's conj() view, AdamW's gradient itself.
    /// </summary>
    public void Apply(Tensor param, Tensor grad, Tensor gradientConjugate, Tensor expAvg, Tensor expAvgSq, ref Tensor maxExpAvgSq, long step, double lr, bool amsgrad)
    {
        var biasCorrection1 = 1 - Math.Pow(Beta1, step);
        var biasCorrection2 = 1 - Math.Pow(Beta2, step);
        expAvg.mul_(_beta1).add_(grad, alpha: _oneMinusBeta1);
        expAvgSq.mul_(_beta2).addcmul_(grad, gradientConjugate, value: _oneMinusBeta2);
        using var sqrtBiasCorrection2 = Math.Sqrt(biasCorrection2).ToScalar();
        Tensor denominator;
        if (amsgrad)
        {
            var previous = maxExpAvgSq;
            maxExpAvgSq = maximum(previous, expAvgSq).DetachFromDisposeScope();
            previous.Dispose();
            denominator = maxExpAvgSq.sqrt().div_(sqrtBiasCorrection2).add_(_eps, alpha: _one);
        }
        else
        {
            denominator = expAvgSq.sqrt().div_(sqrtBiasCorrection2).add_(_eps, alpha: _one);
        }
        using var stepSize = (-(lr / biasCorrection1)).ToScalar();
        param.addcdiv_(expAvg, denominator, value: stepSize);
    }

    public void Dispose()
    {
        _beta1.Dispose();
        _oneMinusBeta1.Dispose();
        _beta2.Dispose();
        _oneMinusBeta2.Dispose();
        _eps.Dispose();
        _one.Dispose();
    }
}
