using System.Buffers.Binary;
using SkiaSharp;

namespace Orchestrator.Tests.Plots;

/// <summary>What a test can tell about an image file without looking at it.</summary>
public static class PlotImages
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Width and height from the PNG header (the IHDR chunk comes first), after checking the signature.</summary>
    public static (int Width, int Height) PngSize(string path)
    {
        var header = new byte[24];
        using (var file = File.OpenRead(path))
        {
            file.ReadExactly(header);
        }
        Assert.Equal(PngSignature, header[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(header, 12, 4));
        return (BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(20)));
    }

    /// <summary>
    /// Inked pixels (clearly not white: text is anti-aliased grey at its edges) in a band of rows. In the band
    /// above the loss panel's data area there is nothing but the title, so ink there means text was drawn; a
    /// machine without a usable font leaves it blank.
    /// </summary>
    public static int InkedPixels(string pngPath, int fromRow, int toRow)
    {
        using var bitmap = SKBitmap.Decode(pngPath) ?? throw new Xunit.Sdk.XunitException($"{pngPath} does not decode as an image");
        var inked = 0;
        for (var y = fromRow; y < Math.Min(toRow, bitmap.Height); y++)
        {
            for (var x = 0; x < bitmap.Width; x++)
            {
                var c = bitmap.GetPixel(x, y);
                if (c.Red + c.Green + c.Blue < 3 * 200)
                {
                    inked++;
                }
            }
        }
        return inked;
    }
}
