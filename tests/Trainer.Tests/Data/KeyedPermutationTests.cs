using Orchestrator.Trainer.Data;

namespace Orchestrator.Trainer.Tests.Data;

public sealed class KeyedPermutationTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(17)]
    [InlineData(64)]
    [InlineData(1000)]
    [InlineData(4097)]
    public void Every_index_maps_to_a_distinct_index_in_range(long count)
    {
        foreach (var key in new ulong[] { 0, 1, 0xDEADBEEF, ulong.MaxValue })
        {
            var permutation = new KeyedPermutation(count, key);
            var images = Enumerable.Range(0, (int)count).Select(i => permutation[i]).ToList();

            Assert.Equal(Enumerable.Range(0, (int)count).Select(i => (long)i), images.Order());
        }
    }

    [Fact]
    public void Different_epochs_and_seeds_give_different_orders_and_the_same_ones_repeat()
    {
        long[] Order(long seed, long epoch)
        {
            var permutation = new KeyedPermutation(500, KeyedPermutation.EpochKey(seed, epoch));
            return Enumerable.Range(0, 500).Select(i => permutation[i]).ToArray();
        }

        Assert.Equal(Order(7, 3), Order(7, 3));
        Assert.NotEqual(Order(7, 3), Order(7, 4));
        Assert.NotEqual(Order(7, 3), Order(8, 3));
    }

    [Fact]
    public void A_shuffle_moves_most_indices()
    {
        var permutation = new KeyedPermutation(10_000, KeyedPermutation.EpochKey(1, 0));

        var fixedPoints = Enumerable.Range(0, 10_000).Count(i => permutation[i] == i);
        var neighboursStayingClose = Enumerable.Range(0, 9_999).Count(i => Math.Abs(permutation[i + 1] - permutation[i]) < 10);

        Assert.True(fixedPoints < 20, $"{fixedPoints} fixed points");
        Assert.True(neighboursStayingClose < 50, $"{neighboursStayingClose} neighbours stay within 10");
    }

    [Fact]
    public void A_huge_range_is_served_without_materialising_it()
    {
        var permutation = new KeyedPermutation(5_000_000_000_000, 42);

        var image = permutation[4_999_999_999_999];

        Assert.InRange(image, 0, 4_999_999_999_999);
        Assert.Equal(image, new KeyedPermutation(5_000_000_000_000, 42)[4_999_999_999_999]);
    }
}
