using System;
using System.Diagnostics;
using Allocator.Bench.Harness;
using Allocator.Bench.Peers;

namespace Allocator.Bench.Workloads;

/// <summary>Resident memory of one peer through the memory run's phases, in KiB.</summary>
public sealed record MemoryRunResult(
    long BaselineKiB, long PeakKiB, long AfterFreeKiB, long AfterPurgeKiB, long HighWaterKiB, long LazyFreeKiB,
    long RequestedBytes, long LiveBytes, int Blocks, double AllocateMs, double FreeMs, double PurgeMs);

/// <summary>
/// Allocates the plan's blocks (touching every page, so that what was asked for is resident),
/// frees 90% of them in random order, then purges; RSS is read after each phase. Meant to run
/// alone in a child process so that no other peer's memory is counted.
/// </summary>
public static class MemoryRun
{
    private const int PageSize = 4096;

    public static MemoryRunResult Run<TPeer, TBlock>(TPeer peer, Action purge, MemoryPlan plan)
        where TPeer : struct, IPeer<TBlock>
    {
        int[] sizes = plan.Sizes;
        var blocks = new TBlock[sizes.Length];

        // The baseline includes the peer's own start-up (first arena, thread cache), not the run.
        TBlock first = peer.Allocate(64);
        peer.Write(first, 0, 1);
        peer.Free(first, 64);
        GC.Collect();
        long baseline = ProcStatus.RssKiB();

        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < sizes.Length; i++)
        {
            nuint size = (nuint)sizes[i];
            TBlock block = peer.Allocate(size);
            for (nuint offset = 0; offset < size; offset += PageSize)
                peer.Write(block, offset, 1);
            peer.Write(block, size - 1, 1);
            blocks[i] = block;
        }
        long t1 = Stopwatch.GetTimestamp();
        long peak = ProcStatus.RssKiB();

        int[] order = plan.FreeOrder;
        for (int k = 0; k < plan.FreeCount; k++)
        {
            int i = order[k];
            peer.Free(blocks[i], (nuint)sizes[i]);
            blocks[i] = default!;
        }
        long t2 = Stopwatch.GetTimestamp();
        long afterFree = ProcStatus.RssKiB();

        purge();
        long t3 = Stopwatch.GetTimestamp();
        long afterPurge = ProcStatus.RssKiB();
        long highWater = ProcStatus.HighWaterKiB();
        long lazyFree = ProcStatus.LazyFreeKiB();

        for (int k = plan.FreeCount; k < order.Length; k++)
        {
            int i = order[k];
            peer.Free(blocks[i], (nuint)sizes[i]);
        }

        return new MemoryRunResult(baseline, peak, afterFree, afterPurge, highWater, lazyFree,
            plan.RequestedBytes, plan.LiveBytes, sizes.Length,
            Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds,
            Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds,
            Stopwatch.GetElapsedTime(t2, t3).TotalMilliseconds);
    }
}
