using System.Security.Cryptography;
using System.Text;
using Orchestrator.Actors.Cluster;

namespace Orchestrator.Actors.Tests.Cluster;

/// <summary>
/// Nodes admit each other by <see cref="WireProtocol.Version"/> alone, so any change another build would
/// misread must come with a new version. These tests hold the contract written out for the current version
/// (wire-contract.txt) and the hash of every version's contract, which is never edited once written.
/// </summary>
public sealed class WireContractTests
{
    // Append a line with each new version; an existing line changed means two builds claim one version.
    private static readonly Dictionary<int, string> ContractHashes = new()
    {
        [4] = "e6d4df2e2ea27cf48fef1928760db7886f582e9368bf6405190b6cfbb8b04f73",
        [5] = "c515cfbb57673a33cbe30ce7aa201e5a957b77d0ac6510685a42e166ad788a4b",
        [6] = "656e68416f07189b8bed2d06d48a6d9d1a8662f4e4c5430b2cab9dc994acf7b4",
        [7] = "4c9634c450733bb8af2a0d2098610e63ee4bd14f0964514944aad5fb86409d8c",
    };

    [Fact]
    public void The_wire_contract_is_the_one_written_for_this_protocol_version()
    {
        var now = WireContract.Describe();
        var written = Written();

        if (now != written)
        {
            var file = Path.Combine(Path.GetTempPath(), $"wire-contract-{Environment.ProcessId}.txt");
            File.WriteAllText(file, now);
            var (was, isNow) = (written.Split('\n'), now.Split('\n'));
            var line = Enumerable.Range(0, Math.Max(was.Length, isNow.Length)).First(i => was.ElementAtOrDefault(i) != isNow.ElementAtOrDefault(i));
            Assert.Fail(
                $"the wire contract changed (line {line + 1}: '{was.ElementAtOrDefault(line)}' is now '{isNow.ElementAtOrDefault(line)}'): bump WireProtocol.Version in " +
                $"src/Actors/Cluster/WireProtocol.cs, copy {file} to tests/Actors.Tests/Cluster/wire-contract.txt and add its hash to ContractHashes");
        }
    }

    [Fact]
    public void The_written_contract_is_the_one_hashed_for_its_version_and_no_two_versions_share_a_contract()
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Written())));

        Assert.True(ContractHashes.TryGetValue(WireProtocol.Version, out var pinned), $"no contract hash for protocol {WireProtocol.Version}: add [{WireProtocol.Version}] = \"{hash}\"");
        Assert.Equal(pinned, hash);
        Assert.Equal(ContractHashes.Count, ContractHashes.Values.Distinct().Count());
    }

    [Fact]
    public void The_contract_covers_the_parts_that_changed_between_protocols_3_and_4()
    {
        var contract = WireContract.Describe();

        Assert.Contains($"\nprotocol {WireProtocol.Version}\n", contract, StringComparison.Ordinal);
        Assert.Contains("chunks of 262144 floats: 2, stride 131072", contract, StringComparison.Ordinal); // one chunk in protocol 3
        Assert.Contains("StepEnd S", contract, StringComparison.Ordinal); // step messages on the link: new in 4
        Assert.Contains("Orchestrator.Actors.Cluster.SubmitJob(Proof: String, Protocol: Int32, Spec: JobSpec)", contract, StringComparison.Ordinal);
        Assert.Contains("Orchestrator.Actors.Job.JobSpec(", contract, StringComparison.Ordinal);
    }

    private static string Written()
    {
        using var stream = typeof(WireContractTests).Assembly.GetManifestResourceStream("wire-contract.txt")
            ?? throw new InvalidOperationException("wire-contract.txt is not embedded in the test assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
