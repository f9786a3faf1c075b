using System;
using System.Collections.Generic;
using Allocator.Bench.Peers;

namespace Allocator.Bench.Suite;

/// <summary>One ported mimalloc-bench workload: its id on the command line and in reports, and
/// what it stands for.</summary>
public sealed record SuiteWorkload(string Id, string Description);

/// <summary>The ported workloads, in report order, and the one switch that runs them for a peer.</summary>
public static class SuiteCatalog
{
    public static IReadOnlyList<SuiteWorkload> All { get; } =
    [
        new("cache-scratch", "passive false sharing: N threads, 1-byte objects, the first freed one allocated by the main thread"),
        new("cache-thrash", "active false sharing: N threads allocating 1-byte objects at once"),
        new("glibc-simple", "16/32/64 B in working sets of 25..1600, half freed in order, half in reverse; main thread, new thread, main again"),
        new("glibc-thread", "N threads replacing blocks of 4..32768 B (inverse-square) in 1,024 slots, every byte written"),
        new("rptest", "N threads, 8..16000 B, calloc/memset, frees at a stride, packets of blocks freed by the next thread"),
        new("sh6bench", "2N threads, bursts of one size 1..1000 B, a kept window, frees in order below it and in reverse above it"),
        new("alloc-test", "N threads, 2^18 slots, 80/20 slot choice, blocks up to 1 KiB filled and read back"),
        new("malloc-large", "20 slots of 5..25 MiB zero-filled blocks, replaced at random"),
    ];

    public static SuiteWorkload? Find(string id)
    {
        foreach (SuiteWorkload w in All)
            if (string.Equals(w.Id, id, StringComparison.OrdinalIgnoreCase))
                return w;
        return null;
    }

    /// <summary>Runs one workload once; returns its wall time in seconds.</summary>
    public static double Run<TPeer, TBlock>(string id, TPeer peer, SuiteScale scale) where TPeer : struct, IPeer<TBlock> => id switch
    {
        "cache-scratch" => CacheSharing.Scratch<TPeer, TBlock>(peer, scale),
        "cache-thrash" => CacheSharing.Thrash<TPeer, TBlock>(peer, scale),
        "glibc-simple" => GlibcBench.Simple<TPeer, TBlock>(peer, scale),
        "glibc-thread" => GlibcBench.Thread<TPeer, TBlock>(peer, scale),
        "rptest" => Rptest.Run<TPeer, TBlock>(peer, scale),
        "sh6bench" => Sh6bench.Run<TPeer, TBlock>(peer, scale),
        "alloc-test" => AllocTest.Run<TPeer, TBlock>(peer, scale),
        "malloc-large" => MallocLarge.Run<TPeer, TBlock>(peer, scale),
        _ => throw new ArgumentException($"Unknown suite workload '{id}'."),
    };
}
