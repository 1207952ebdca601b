namespace Orchestrator.Trainer.Interop;

/// <summary>A checkpoint that cannot be exported as asked, with the reason in one line.</summary>
public sealed class ExportException(string message) : Exception(message);
