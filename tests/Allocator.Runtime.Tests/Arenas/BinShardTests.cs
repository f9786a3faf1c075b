using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Allocator.Map;
using Microsoft.Extensions.Time.Testing;

namespace Allocator.Tests.Arenas;

/// <summary>
/// Bin shards: each thread cache fills from and flushes to its own shard's slabs, so threads share
/// no slab; a block goes back to the shard of its slab whoever frees it; the statistics sum the
/// shards; Validate, Reset and Dispose cover every shard.
/// </summary>
[Collection(Infrastructure.ProcessWideCollection.Name)]
public sealed unsafe class BinShardTests
{
    private const int Shards = 4;

    private static Arena<RuntimeArenaPolicy> NewArena(int shards = Shards, bool threadCache = true) =>
        new(new ArenaOptions { BinShards = shards, ThreadCache = threadCache, TimeProvider = new FakeTimeProvider() });

    private static RtreeContents Leaf(Arena<RuntimeArenaPolicy> arena, nint p)
    {
        Assert.True(arena.PageAllocator.Context.Map.TryLookup((void*)p, out RtreeContents c), $"no leaf for 0x{p:x}");
        return c;
    }

    // Runs body on `count` threads that are all alive at once (so each keeps its cache, and its
    // shard, while the others take theirs), and returns what each produced.
    private static List<T>[] OnThreads<T>(int count, Func<int, List<T>> body)
    {
        var results = new List<T>[count];
        using var barrier = new Barrier(count);
        Exception? failure = null;
        var threads = Enumerable.Range(0, count).Select(i => new Thread(() =>
        {
            try
            {
                results[i] = body(i);
                barrier.SignalAndWait();
            }
            catch (Exception e)
            {
                failure ??= e;
                barrier.RemoveParticipant();
            }
        })).ToArray();
        foreach (Thread t in threads) t.Start();
        foreach (Thread t in threads) t.Join();
        if (failure != null) throw new InvalidOperationException("A test thread failed.", failure);
        return results;
    }

    private static List<nint> AllocateMany(Arena arena, nuint size, int count)
    {
        var blocks = new List<nint>(count);
        for (int i = 0; i < count; i++) blocks.Add((nint)arena.Allocate(size));
        return blocks;
    }

    [Fact]
    public void ThreadsThatRunTogetherGetShardsOfTheirOwnAndShareNoSlab()
    {
        using var arena = NewArena();
        List<nint>[] blocks = OnThreads(Shards, _ => AllocateMany(arena, 64, 300));

        var shardOfThread = new int[Shards];
        var slabOwner = new Dictionary<nint, int>();
        for (int t = 0; t < Shards; t++)
        {
            var shards = blocks[t].Select(p => Leaf(arena, p).Edata->BinShard).Distinct().ToArray();
            Assert.Single(shards);
            shardOfThread[t] = shards[0];
            foreach (nint p in blocks[t])
            {
                var slab = (nint)Leaf(arena, p).Edata;
                Assert.True(slabOwner.TryAdd(slab, t) || slabOwner[slab] == t, $"the slab at 0x{slab:x} serves threads {slabOwner[slab]} and {t}");
            }
        }

        Assert.Equal(Shards, shardOfThread.Distinct().Count());
        arena.Validate();
        foreach (List<nint> list in blocks)
            foreach (nint p in list) arena.Free((void*)p);
        arena.Validate();
    }

    [Fact]
    public void ClassStatisticsAreTheSumOfTheShards()
    {
        using var arena = NewArena();
        List<nint>[] blocks = OnThreads(3, i => AllocateMany(arena, 64, 100 + 150 * i));
        // Frees from this thread land in its own cache; flush them so the bins count some frees too.
        foreach (nint p in blocks[0]) arena.Free((void*)p);
        arena.Purge();

        ArenaStats stats = arena.GetStats();
        int busy = 0;
        for (int i = 0; i < stats.Bins.Count; i++)
        {
            BinStats[] shards = Enumerable.Range(0, arena.BinShards).Select(s => arena.ShardBinStats(i, s)).ToArray();
            BinStats sum = stats.Bins[i];
            Assert.Equal(shards.Sum(b => b.Allocations), sum.Allocations);
            Assert.Equal(shards.Sum(b => b.Deallocations), sum.Deallocations);
            Assert.Equal(shards.Sum(b => b.CurrentRegions), sum.CurrentRegions);
            Assert.Equal(shards.Sum(b => b.Slabs), sum.Slabs);
            Assert.Equal(shards.Sum(b => b.CurrentSlabs), sum.CurrentSlabs);
            Assert.Equal(shards.Sum(b => b.Fills), sum.Fills);
            Assert.Equal(shards.Sum(b => b.Flushes), sum.Flushes);
            busy = Math.Max(busy, shards.Count(b => b.Allocations > 0));
        }

        Assert.True(busy >= 3, $"the threads should have used three shards of one class, not {busy}");
        Assert.True(stats.Bins.Sum(b => b.Deallocations) >= 100, "the flushed frees are counted");
        arena.Validate();
    }

    [Fact]
    public void AThreadsFirstFreeGoesBackToTheBlocksSlabNotIntoItsCache()
    {
        using var arena = NewArena();
        var given = (nint)arena.Allocate(1);
        var neighbour = (nint)arena.Allocate(1);
        List<nint>[] got = OnThreads(1, _ =>
        {
            arena.Free((void*)given);
            return AllocateMany(arena, 1, 1);
        });

        nint first = got[0][0];
        Assert.NotEqual(given, first);
        Assert.NotEqual((nint)Leaf(arena, given).Edata, (nint)Leaf(arena, first).Edata);
        // The block went back to its own shard's bin (the only region that bin took back), not into a cache.
        RtreeContents leaf = Leaf(arena, given);
        Assert.Equal(1, arena.ShardBinStats(leaf.SizeIndex, leaf.Edata->BinShard).Deallocations);
        arena.Free((void*)neighbour);
        arena.Free((void*)first);
        arena.Validate();
    }

    [Fact]
    public void ABlockFreedOnAnotherThreadGoesBackToItsOwnShard()
    {
        using var arena = NewArena();
        List<nint>[] blocks = OnThreads(2, _ => AllocateMany(arena, 128, 400));
        // This thread frees every block: its flushes carry regions of two other shards at once.
        foreach (List<nint> list in blocks)
            foreach (nint p in list) arena.Free((void*)p);
        arena.Purge();
        arena.Validate();
        Assert.Equal(0, arena.GetStats().Bins.Sum(b => b.CurrentRegions));
    }

    [Fact]
    public void ValidateNamesASlabFiledUnderAnotherShard()
    {
        using var arena = NewArena();
        var p = (nint)arena.Allocate(64);
        var slab = Leaf(arena, p).Edata;
        int shard = slab->BinShard;
        slab->BinShard = (shard + 1) % Shards;
        try
        {
            var e = Assert.Throws<InvalidOperationException>(arena.Validate);
            Assert.Contains($"records shard {(shard + 1) % Shards}", e.Message);
        }
        finally
        {
            slab->BinShard = shard;
        }

        arena.Validate();
        arena.Free((void*)p);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ResetAndDisposeReleaseEveryShard(bool threadCache)
    {
        var arena = NewArena(threadCache: threadCache);
        OnThreads(Shards, i => AllocateMany(arena, (nuint)(16 << (i % 3)), 500));
        Assert.True(arena.GetStats().Active > 0);

        arena.Reset();
        arena.Validate();
        ArenaStats stats = arena.GetStats();
        Assert.Equal(0, stats.Bins.Sum(b => b.CurrentRegions));
        Assert.Equal(0, stats.Bins.Sum(b => b.CurrentSlabs));
        Assert.Equal(0, stats.Active);

        List<nint>[] again = OnThreads(2, _ => AllocateMany(arena, 48, 300));
        arena.Validate();
        foreach (List<nint> list in again)
            foreach (nint p in list) arena.Free((void*)p);
        arena.Dispose();
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(ArenaOptions.MaxBinShards + 1)]
    public void ABadShardCountIsRefusedByName(int shards)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Arena<RuntimeArenaPolicy>(new ArenaOptions { BinShards = shards }));
        Assert.Equal("BinShards", e.ParamName);
    }

    [Fact]
    public void OneShardMeansOneBinPerClass()
    {
        using var arena = NewArena(shards: 1);
        List<nint>[] blocks = OnThreads(2, _ => AllocateMany(arena, 64, 50));
        Assert.All(blocks.SelectMany(b => b), p => Assert.Equal(0, Leaf(arena, p).Edata->BinShard));
        arena.Validate();
    }
}
