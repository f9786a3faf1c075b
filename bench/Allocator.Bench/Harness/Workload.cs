using System;
using System.Collections.Generic;
using Allocator.Bench.Peers;
using Allocator.Bench.Workloads;

namespace Allocator.Bench.Harness;

/// <summary>A timed workload: <paramref name="Unit"/> says what one operation is.</summary>
public sealed record Workload(string Id, string Title, string Unit, Func<PeerEntry, ITimedRun> Create);

public static class WorkloadCatalog
{
    public const int LiveBlocks = 10_000;
    public const int RingCapacity = 1024;

    /// <summary>The timed workloads in report order. Operation counts are for the full mode and
    /// keep one run of the slowest peer near 100 ms.</summary>
    public static IReadOnlyList<Workload> Timed(RunSettings settings)
    {
        var list = new List<Workload>();
        foreach ((int size, int pairs, string label) in new[]
                 {
                     (64, 1_000_000, "64 B"), (256, 1_000_000, "256 B"), (4096, 200_000, "4 KiB"),
                     (64 << 10, 20_000, "64 KiB"), (1 << 20, 2_000, "1 MiB"),
                 })
        {
            int n = settings.Ops(pairs);
            list.Add(new Workload($"pair-{size}", $"{label} pair", "allocate+free pair",
                peer => peer.CreatePairs((nuint)size, n)));
        }

        // Plans are drawn lazily and once, then shared, so every peer replays the same sequence.
        var liveSet = new Lazy<LiveSetPlan>(() => new LiveSetPlan(LiveBlocks, settings.Ops(1_000_000)));
        list.Add(new Workload("live-set", "live set 16..1024 B", "free+allocate replacement",
            peer => peer.CreateLiveSet(liveSet.Value)));
        var crossThread = new Lazy<CrossThreadPlan>(() => new CrossThreadPlan(settings.Ops(500_000), RingCapacity));
        list.Add(new Workload("cross-thread", "cross-thread 16..1024 B", "block allocated on one thread, freed on another",
            peer => peer.CreateCrossThread(crossThread.Value)));
        return list;
    }
}
