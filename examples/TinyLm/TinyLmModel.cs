using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TinyLm;

/// <summary>
/// A one-block transformer language model: token and position embeddings, one causal self-attention head
/// and a feed-forward layer, each with a pre-norm residual, then logits over the vocabulary at every
/// position. Input (batch, T) token ids; output (batch, T, vocabulary).
/// </summary>
/// <remarks>
/// The field names are the state-dict keys: renaming one breaks the checkpoints of earlier runs. The scalars
/// of the forward pass live as long as the model: an inline one (the 1 that <c>a + b</c> passes as alpha) is
/// unreachable during the native call, and the finalizer thread may free it mid-call.
/// </remarks>
internal sealed class TinyLmModel : nn.Module<Tensor, Tensor>
{
    private readonly Embedding tokens;
    private readonly Embedding positions;
    private readonly LayerNorm attentionNorm;
    private readonly Linear query;
    private readonly Linear key;
    private readonly Linear value;
    private readonly Linear project;
    private readonly LayerNorm feedForwardNorm;
    private readonly Linear expand;
    private readonly Linear contract;
    private readonly LayerNorm outputNorm;
    private readonly Linear output;

    private readonly long[] _positionIds;
    private readonly Scalar _one = 1.0.ToScalar();
    private readonly Scalar _attentionScale;
    private readonly Scalar _hidden = double.NegativeInfinity.ToScalar();

    public TinyLmModel(int vocabulary, int context, int width) : base(nameof(TinyLmModel))
    {
        tokens = nn.Embedding(vocabulary, width);
        positions = nn.Embedding(context, width);
        attentionNorm = nn.LayerNorm(width);
        query = nn.Linear(width, width);
        key = nn.Linear(width, width);
        value = nn.Linear(width, width);
        project = nn.Linear(width, width);
        feedForwardNorm = nn.LayerNorm(width);
        expand = nn.Linear(width, 4 * width);
        contract = nn.Linear(4 * width, width);
        outputNorm = nn.LayerNorm(width);
        output = nn.Linear(width, vocabulary);
        RegisterComponents();
        _positionIds = Enumerable.Range(0, context).Select(i => (long)i).ToArray();
        _attentionScale = (1.0 / Math.Sqrt(width)).ToScalar();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var length = input.shape[1];
        // Built from an array, not arange: arange(n) makes its start and step scalars inline.
        var positionIds = tensor(_positionIds.AsSpan(0, (int)length).ToArray(), device: input.device);
        var x = tokens.call(input).add(positions.call(positionIds), alpha: _one);

        var h = attentionNorm.call(x);
        var scores = query.call(h).matmul(key.call(h).transpose(1, 2)).mul(_attentionScale);
        var future = ones(length, length, dtype: ScalarType.Bool, device: input.device).triu(1);
        var attention = scores.masked_fill(future, _hidden).softmax(-1);
        x = x.add(project.call(attention.matmul(value.call(h))), alpha: _one);

        var f = contract.call(nn.functional.gelu(expand.call(feedForwardNorm.call(x))));
        x = x.add(f, alpha: _one);
        return output.call(outputNorm.call(x)).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _one.Dispose();
            _attentionScale.Dispose();
            _hidden.Dispose();
        }
        base.Dispose(disposing);
    }
}
