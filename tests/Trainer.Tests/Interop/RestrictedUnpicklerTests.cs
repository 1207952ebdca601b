using System.Text;
using Orchestrator.Trainer.Checkpointing;
using Orchestrator.Trainer.Interop;

namespace Orchestrator.Trainer.Tests.Interop;

/// <summary>The pickle reader builds plain data and refuses every name it does not imitate, whichever opcode brings it.</summary>
public sealed class RestrictedUnpicklerTests
{
    [Theory]
    [InlineData("\u0080\u0002cbuiltins\neval\nX\u0004\u0000\u0000\u00001+1\u0085R.", "builtins.eval")] // GLOBAL + REDUCE
    [InlineData("\u0080\u0004\u008c\u0002os\u008c\u0006system\u0093.", "os.system")] // protocol 4 STACK_GLOBAL
    [InlineData("(ios\nsystem\n.", "os.system")] // INST
    [InlineData("\u0080\u0002ccollections\nOrderedDict\n)\u0081.", "collections.OrderedDict")] // NEWOBJ, even of an allowed name
    [InlineData("\u0080\u0002ctorch\nFloatStorage\n)R.", "torch.FloatStorage(...)")] // an allowed name that is not a call here
    public void A_name_that_is_not_imitated_is_refused_before_anything_is_called(string pickle, string type)
    {
        var error = Assert.Throws<CorruptCheckpointException>(() => RestrictedUnpickler.Load("f.pt", Encoding.Latin1.GetBytes(pickle)));

        Assert.Equal($"f.pt: holds a pickled object of type {type}, not a state_dict of tensors; only tensors in plain containers are loaded (no code runs on load)", error.Message);
    }

    [Fact]
    public void Plain_containers_strings_and_numbers_are_built()
    {
        // pickle.dumps({'a': [1, -2, 3.5, True, None], 'b': ('x', 300, 2**40)}, protocol=2), as Python 3.11 writes it.
        var pickle = "\u0080\u0002}q\u0000(X\u0001\u0000\u0000\u0000aq\u0001]q\u0002(K\u0001J\u00fe\u00ff\u00ff\u00ffG@\u000c\u0000\u0000\u0000\u0000\u0000\u0000\u0088Ne"
            + "X\u0001\u0000\u0000\u0000bq\u0003X\u0001\u0000\u0000\u0000xq\u0004M,\u0001\u008a\u0006\u0000\u0000\u0000\u0000\u0000\u0001\u0087q\u0005u.";

        var value = Assert.IsType<PickleDict>(RestrictedUnpickler.Load("f.pt", Encoding.Latin1.GetBytes(pickle)));

        Assert.Equal(["a", "b"], value.Items.Select(i => i.Key));
        Assert.Equal(new object?[] { 1L, -2L, 3.5, true, null }, Assert.IsType<List<object?>>(value.Items[0].Value));
        Assert.Equal(new object?[] { "x", 300L, 1L << 40 }, Assert.IsType<PickleTuple>(value.Items[1].Value).Items);
    }

    [Theory]
    [InlineData("\u0080\u0002X\u00ff\u00ff\u00ff\u007fabc.", "ends in the middle of a value (truncated)")] // a 2 GB string in 3 bytes
    [InlineData("\u0080\u0002h\u0007.", "refers to memo entry 7, which it never stored")]
    [InlineData("\u0080\u0002s.", "reads past the start of its stack")]
    public void A_damaged_pickle_is_refused_in_one_line(string pickle, string problem)
    {
        var error = Assert.Throws<CorruptCheckpointException>(() => RestrictedUnpickler.Load("f.pt", Encoding.Latin1.GetBytes(pickle)));

        Assert.Equal($"f.pt: its pickle (data.pkl) {problem}", error.Message);
    }
}
