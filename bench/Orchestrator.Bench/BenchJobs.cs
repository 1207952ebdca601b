using Orchestrator.Trainer.Jobs;

namespace Orchestrator.Bench;

/// <summary>The built-in mlp job at a chosen parameter size: its hidden width w gives about w² parameters.</summary>
internal sealed record ModelSize(string Name, int Width)
{
    public static readonly ModelSize Small = new("1 MB", 512);
    public static readonly ModelSize Medium = new("100 MB", 5000);
    public static readonly ModelSize Large = new("500 MB", 11180);

    public BuiltInJobOptions Options => new() { Seed = 1, Width = Width, Samples = 2048, BatchSize = 32 };

    public long ParameterBytes => 4L * ((16L * Width) + Width + ((long)Width * Width) + Width + Width + 1);
}
