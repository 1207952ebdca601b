namespace Orchestrator.Trainer.Jobs.Loading;

/// <summary>
/// A job that cannot be loaded or built, with one line saying what and how to fix it. It is bad input (an
/// <see cref="ArgumentException"/>): the command exits 2 and nothing is recorded.
/// </summary>
public sealed class JobLoadException(string message, Exception? inner = null) : ArgumentException(message, inner);
