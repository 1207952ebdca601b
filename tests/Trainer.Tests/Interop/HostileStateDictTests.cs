using System.Buffers.Binary;
using System.Text;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Interop;

namespace Orchestrator.Trainer.Tests.Interop;

/// <summary>
/// Files that lie: each is refused in one line naming the file and what is wrong, having allocated no more
/// than a small, fixed amount beyond the file's size, whatever sizes the file claims; and no pickled code runs.
/// </summary>
public sealed class HostileStateDictTests : IDisposable
{
    // A parsed JSON header, a pickle's memo and the error text cost this much at most, whatever the file claims.
    private const long AllocationSlack = 256 * 1024;

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_safetensors_header_whose_offsets_run_past_the_data_is_refused()
    {
        var path = Safetensors("""{"w":{"dtype":"F32","shape":[1000000000,1000],"data_offsets":[0,4000000000000]}}""", 16);

        AssertRefused(path, "safetensors entry 'w' has data_offsets [0,4000000000000] outside the 16 data bytes");
    }

    [Fact]
    public void A_safetensors_entry_whose_size_does_not_match_its_shape_is_refused()
    {
        var path = Safetensors("""{"w":{"dtype":"F16","shape":[4],"data_offsets":[0,16]}}""", 16);

        AssertRefused(path, "safetensors entry 'w' of F16 [4] needs 8 bytes, but its data_offsets give 16");
    }

    [Fact]
    public void Overlapping_safetensors_entries_are_refused()
    {
        var path = Safetensors("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12);

        AssertRefused(path, "safetensors entry 'b' starts at data byte 4, but the tensor before it ends at 8");
    }

    [Fact]
    public void Data_hidden_after_the_last_safetensors_entry_is_refused()
    {
        var path = Safetensors("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 12);

        AssertRefused(path, "the safetensors tensors end at data byte 8, but the file holds 12 data bytes");
    }

    [Fact]
    public void An_unknown_safetensors_dtype_is_refused_by_name()
    {
        var path = Safetensors("""{"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}""", 2);

        AssertRefused(path, "safetensors entry 'a' has dtype 'F8_E4M3', which is not one of F64, F32");
    }

    [Theory]
    [InlineData(ulong.MaxValue)]
    [InlineData(1UL << 40)]
    [InlineData(200_000_000UL)]
    public void A_huge_safetensors_header_length_is_refused_before_anything_is_read(ulong claimed)
    {
        var path = _temp.Sub("huge.safetensors");
        var bytes = new byte[64];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, claimed);
        File.WriteAllBytes(path, bytes);

        AssertRefused(path, $"the safetensors header claims {claimed} bytes, but the file has 56 after the length");
    }

    [Fact]
    public void A_truncated_safetensors_file_is_refused()
    {
        PyTorchStateDicts.ForJob(_temp.Path, "mlp", 8);
        var path = Truncated(_temp.Sub("model.safetensors"), keep: 0.6);

        AssertRefused(path, "safetensors entry");
    }

    [Fact]
    public void A_pickle_that_would_run_a_command_is_refused_and_never_runs()
    {
        PyTorchStateDicts.Hostile(_temp.Path);

        AssertRefused(_temp.Sub("evil.pt"), "holds a pickled object of type posix.system, not a state_dict of tensors; only tensors in plain containers are loaded (no code runs on load)");
        Assert.False(File.Exists(_temp.Sub("code-ran")), "the pickled os.system call ran");
    }

    [Fact]
    public void A_storage_missing_from_the_zip_is_refused_by_name()
    {
        PyTorchStateDicts.Hostile(_temp.Path);

        AssertRefused(_temp.Sub("missing_storage.pt"), "the storage of tensor 'bias' (whole/data/1) is missing from the zip");
    }

    [Fact]
    public void A_tensor_whose_shape_exceeds_its_storage_is_refused()
    {
        PyTorchStateDicts.Hostile(_temp.Path);

        AssertRefused(_temp.Sub("overshape.pt"), "tensor 'weight' of shape [100] (stride [1], offset 0) reaches past its storage of 4 elements");
        using var fits = StateDictFile.Open(_temp.Sub("fits.pt")); // the same file with a shape that fits loads
        Assert.Equal([4L], fits.Tensors.Single().Value.Shape);
    }

    [Fact]
    public void The_legacy_torch_save_format_is_refused_with_the_way_out()
    {
        PyTorchStateDicts.Hostile(_temp.Path);

        AssertRefused(_temp.Sub("legacy.pt"), "is in PyTorch's legacy (before 1.6) torch.save format; re-save it with a current PyTorch");
    }

    [Fact]
    public void A_truncated_torch_save_file_is_refused()
    {
        PyTorchStateDicts.ForJob(_temp.Path, "mlp", 8);

        AssertRefused(Truncated(_temp.Sub("model.pt"), keep: 0.7), "is a zip without its directory at the end: the file is truncated; copy or save it again");
    }

    [Fact]
    public void A_missing_file_is_refused_in_one_line()
    {
        AssertRefused(_temp.Sub("absent.pt"), "does not exist; give --load-from a .safetensors or .pt file, or a checkpoint folder");
    }

    private string Safetensors(string header, int dataBytes)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        var path = _temp.Sub($"{Guid.NewGuid():N}.safetensors");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string Truncated(string path, double keep)
    {
        var bytes = File.ReadAllBytes(path);
        var cut = _temp.Sub("cut" + Path.GetExtension(path));
        File.WriteAllBytes(cut, bytes[..(int)(bytes.Length * keep)]);
        return cut;
    }

    private static void AssertRefused(string path, string problem)
    {
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<CorruptCheckpointException>(() => StateDictFile.Open(path).Dispose());
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;

        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        var size = File.Exists(path) ? new FileInfo(path).Length : 0;
        Assert.True(allocated < size + AllocationSlack, $"allocated {allocated} bytes reading a file of {size}");
    }
}
