using System.Security.Cryptography;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tensors;

/// <summary>
/// <c>weights-sha256</c>: SHA-256 over the raw bytes of a model's parameters and buffers, taken in ordinal
/// name order, so two runs (or a run and a checkpoint) can be compared exactly.
/// </summary>
public static class WeightsDigest
{
    public static string Of(nn.Module model) =>
        Of(model.state_dict().Select(entry => KeyValuePair.Create(entry.Key, HostTensor.Copy(entry.Value))));

    public static string Of(IEnumerable<KeyValuePair<string, HostTensor>> tensors)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (_, tensor) in tensors.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            hash.AppendData(tensor.Bytes.Span);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
