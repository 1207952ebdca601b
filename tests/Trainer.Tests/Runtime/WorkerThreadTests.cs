using Orchestrator.Trainer.Runtime;

namespace Orchestrator.Trainer.Tests.Runtime;

/// <summary>The thread a checkpoint's copy and write run on: kept between pieces of work, in order, never a pool thread.</summary>
public sealed class WorkerThreadTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Consecutive_work_runs_on_one_dedicated_background_thread()
    {
        var worker = new WorkerThread("test-worker");

        var first = await worker.Run(() => Thread.CurrentThread);
        var second = await worker.Run(() => Thread.CurrentThread);

        Assert.Same(first, second);
        Assert.Equal("test-worker", first.Name);
        Assert.True(first.IsBackground);
        Assert.False(first.IsThreadPoolThread);
        Assert.Equal(1, worker.ThreadsStarted);
    }

    [Fact]
    public async Task Work_runs_in_the_order_given_one_piece_at_a_time()
    {
        var worker = new WorkerThread("test-worker");
        using var release = new ManualResetEventSlim();
        var order = new List<int>();
        var started = new TaskCompletionSource();

        var blocked = worker.Run(() =>
        {
            started.SetResult();
            release.Wait();
            order.Add(1);
        });
        await started.Task.WaitAsync(Patience);
        var second = worker.Run(() => order.Add(2));
        var third = worker.Run(() => order.Add(3));
        Assert.False(second.IsCompleted); // queued behind the first, not run beside it
        release.Set();
        await Task.WhenAll(blocked, second, third).WaitAsync(Patience);

        Assert.Equal([1, 2, 3], order);
    }

    [Fact]
    public async Task A_failure_reaches_the_waiter_and_the_thread_goes_on()
    {
        var worker = new WorkerThread("test-worker");

        var failed = worker.Run<int>(() => throw new IOException("disk full"));
        var error = await Assert.ThrowsAsync<IOException>(() => failed);
        var after = await worker.Run(() => 42);

        Assert.Equal("disk full", error.Message);
        Assert.Equal(42, after);
        Assert.Equal(1, worker.ThreadsStarted);
    }

    [Fact]
    public async Task An_idle_thread_ends_and_later_work_starts_another()
    {
        var worker = new WorkerThread("test-worker", idleTimeout: TimeSpan.FromMilliseconds(20));

        var first = await worker.Run(() => Thread.CurrentThread);
        Assert.True(first.Join(Patience)); // ends on its own once idle
        var second = await worker.Run(() => Thread.CurrentThread);

        Assert.NotSame(first, second);
        Assert.Equal(2, worker.ThreadsStarted);
    }
}
