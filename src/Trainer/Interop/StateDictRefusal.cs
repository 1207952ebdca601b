using Orchestrator.Trainer.Checkpointing;

namespace Orchestrator.Trainer.Interop;

/// <summary>
/// The one-line refusal of a state_dict file: what is wrong, with the file's path first. It is a
/// <see cref="CorruptCheckpointException"/>, so every caller that refuses a bad checkpoint with exit code 2
/// refuses a bad file the same way.
/// </summary>
internal static class StateDictRefusal
{
    public static CorruptCheckpointException Of(string path, string problem) => new($"{path}: {problem}");
}
