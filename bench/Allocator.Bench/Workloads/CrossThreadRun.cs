using System.Diagnostics;
using System.Threading;
using Allocator.Bench.Harness;
using Allocator.Bench.Peers;

namespace Allocator.Bench.Workloads;

/// <summary>
/// The calling thread allocates every size of the plan and passes each block through an
/// <see cref="SpscRing{T}"/> to a second thread that frees it: every free is a cross-thread free.
/// The freeing thread lives as long as this object, so its thread-local caches are warm after
/// the warm-up runs, as they would be in a server.
/// </summary>
public sealed class CrossThreadRun<TPeer, TBlock> : ITimedRun
    where TPeer : struct, IPeer<TBlock>
{
    private readonly TPeer _peer;
    private readonly CrossThreadPlan _plan;
    private readonly SpscRing<TBlock> _ring;
    private readonly SemaphoreSlim _go = new(0);
    private readonly SemaphoreSlim _done = new(0);
    private readonly Thread _freer;
    private volatile bool _stop;

    public CrossThreadRun(TPeer peer, CrossThreadPlan plan)
    {
        _peer = peer;
        _plan = plan;
        _ring = new SpscRing<TBlock>(plan.RingCapacity);
        _freer = new Thread(FreeLoop) { IsBackground = true, Name = "bench-freer" };
        _freer.Start();
    }

    public long Operations => _plan.Sizes.Length;

    public long Run()
    {
        TPeer p = _peer;
        ushort[] sizes = _plan.Sizes;
        SpscRing<TBlock> ring = _ring;
        long start = Stopwatch.GetTimestamp();
        _go.Release();
        for (int i = 0; i < sizes.Length; i++)
        {
            TBlock block = p.Allocate(sizes[i]);
            p.Write(block, 0, (byte)i);
            ring.Enqueue(block);
        }
        _done.Wait();
        return Stopwatch.GetTimestamp() - start;
    }

    private void FreeLoop()
    {
        TPeer p = _peer;
        ushort[] sizes = _plan.Sizes;
        SpscRing<TBlock> ring = _ring;
        while (true)
        {
            _go.Wait();
            if (_stop)
                return;
            for (int i = 0; i < sizes.Length; i++)
                p.Free(ring.Dequeue(), sizes[i]);
            _done.Release();
        }
    }

    public void Dispose()
    {
        _stop = true;
        _go.Release();
        _freer.Join();
        _go.Dispose();
        _done.Dispose();
    }
}
