namespace Orchestrator.Cli.Commands;

/// <summary>Bad input from the user: printed as one line, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
