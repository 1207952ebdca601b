using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Orchestrator.Trainer.Checkpointing;

namespace Orchestrator.Trainer.Tests.Support;

/// <summary>
/// Rewrites a checkpoint the way earlier versions of this program wrote it: the info and the components in
/// <c>checkpoint.json</c>, every tensor in a file, and a manifest of format 2 (XXH128) or 1 (SHA-256) that
/// lists them all and holds nothing else.
/// </summary>
public static class OlderFormats
{
    public static void Rewrite(string path, int version)
    {
        var manifestPath = Path.Combine(path, "MANIFEST.json");
        var manifest = CheckpointManifest.Parse(File.ReadAllBytes(manifestPath));
        var format = $"orchestrator-checkpoint/{version}";
        var components = new Dictionary<string, ComponentEntry>(StringComparer.Ordinal);
        foreach (var (name, entry) in manifest.Components!)
        {
            if (entry.InlineTensors is { } inline)
            {
                File.WriteAllBytes(Path.Combine(path, $"{name}.tensors"), inline);
                components[name] = entry with { TensorFile = $"{name}.tensors", InlineTensors = null };
            }
            else
            {
                components[name] = entry;
            }
        }
        var metadata = new CheckpointMetadata(format, manifest.Info!, components);
        File.WriteAllBytes(Path.Combine(path, "checkpoint.json"), JsonSerializer.SerializeToUtf8Bytes(metadata, CheckpointJson.Options));
        var files = new JsonObject();
        foreach (var file in Directory.GetFiles(path).Where(f => Path.GetFileName(f) != "MANIFEST.json").Order(StringComparer.Ordinal))
        {
            var bytes = File.ReadAllBytes(file);
            files[Path.GetFileName(file)] = version == 1
                ? new JsonObject { ["bytes"] = bytes.Length, ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(bytes)) }
                : new JsonObject { ["bytes"] = bytes.Length, ["xxh128"] = Convert.ToHexStringLower(XxHash128.Hash(bytes)) };
        }
        var older = new JsonObject { ["format"] = format, ["name"] = manifest.Name, ["iteration"] = manifest.Iteration, ["files"] = files };
        File.WriteAllText(manifestPath, older.ToJsonString());
    }
}
