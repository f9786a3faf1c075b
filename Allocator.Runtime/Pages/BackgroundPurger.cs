using System;
using System.ComponentModel;
using System.Threading;

namespace Allocator.Extents;

/// <summary>
/// A thread of its own that sleeps until the decay schedule says pages are due, then purges them
/// (jemalloc's background thread, one per shard). Started only on request.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Advanced)]
public sealed class BackgroundPurger : IDisposable
{
    // With nothing scheduled, look again this often: new dirty pages do not signal the purger.
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(1);

    private readonly IPageAllocatorBackend _backend;
    private readonly AutoResetEvent _wake = new(false);
    private readonly Thread _thread;
    private volatile bool _stopping;
    private long _passes;

    internal BackgroundPurger(IPageAllocatorBackend backend, string name)
    {
        _backend = backend;
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>How many decay passes have run.</summary>
    public long Passes => Interlocked.Read(ref _passes);

    /// <summary>Runs a pass now instead of at the next deadline (tests that move a fake clock use it).</summary>
    public void Wake() => _wake.Set();

    private void Run()
    {
        while (!_stopping)
        {
            long ns = _backend.TimeUntilDeferredWork();
            TimeSpan wait = ns >= (long)IdlePoll.TotalMilliseconds * 1_000_000 ? IdlePoll : TimeSpan.FromTicks(Math.Max(1, ns / 100));
            _wake.WaitOne(wait);
            if (_stopping) break;
            _backend.DoDeferredWork();
            Interlocked.Increment(ref _passes);
        }
    }

    /// <summary>Stops the thread and waits for it.</summary>
    public void Dispose()
    {
        _stopping = true;
        _wake.Set();
        _thread.Join();
        _wake.Dispose();
    }
}
