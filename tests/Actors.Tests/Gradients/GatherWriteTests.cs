using Orchestrator.Actors.Gradients;

namespace Orchestrator.Actors.Tests.Gradients;

/// <summary>A gathered write the socket took only part of goes on from the first byte it did not take.</summary>
public sealed class GatherWriteTests
{
    [Theory]
    [InlineData(0, 3, 1000, 10)]
    [InlineData(4, 3, 1004, 6)]
    [InlineData(10, 2, 2000, 20)]
    [InlineData(25, 2, 2015, 5)]
    [InlineData(35, 1, 3005, 25)]
    [InlineData(59, 1, 3029, 1)]
    [InlineData(60, 0, 0, 0)]
    public void Advance_skips_the_written_bytes_across_pieces(int written, int piecesLeft, int firstBase, int firstLength)
    {
        IoVector[] pieces = [new(1000, 10), new(2000, 20), new(3000, 30)];

        var left = GatherWrite.Advance(pieces, written);

        Assert.Equal(piecesLeft, left.Length);
        if (piecesLeft > 0)
        {
            Assert.Equal(new IoVector(firstBase, firstLength), left[0]);
            Assert.Equal(pieces[^1], left[^1]);
        }
    }
}
