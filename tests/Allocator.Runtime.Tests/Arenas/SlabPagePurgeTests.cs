using System;
using System.Linq;
using Allocator.Tests.Infrastructure;

namespace Allocator.Tests.Arenas;

/// <summary>An explicit purge also gives back the free pages of slabs that are still in use.</summary>
public sealed unsafe class SlabPagePurgeTests
{
    // 5 KiB regions, four to a 20 KiB slab: with the first region live, pages 2..4 hold free regions only.
    private const int RegionSize = 5120;

    [Fact]
    public void PagesHoldingOnlyFreeRegionsAreReturnedAndLiveRegionsKeepTheirBytes()
    {
        using var arena = new Arena<RuntimeArenaPolicy>(new ArenaOptions());
        nuint page = (nuint)Environment.SystemPageSize;
        var blocks = Enumerable.Range(0, 64).Select(_ => (nint)arena.Allocate(RegionSize)).ToArray();
        foreach (nint b in blocks) new Span<byte>((void*)b, RegionSize).Fill(0x5A);

        // Keep the first region of every slab, free the other three.
        var slabs = blocks.GroupBy(b => arena.PageAllocator.Context.Map.TryLookup((void*)b, out var c) ? (nint)c.Edata->Address : 0).ToArray();
        Assert.DoesNotContain(slabs, g => g.Key == 0);
        var kept = slabs.Select(g => g.Min()).ToHashSet();
        foreach (nint b in blocks.Where(b => !kept.Contains(b))) arena.Free((void*)b);

        arena.Purge();

        var stats = arena.GetStats();
        int fullSlabs = slabs.Count(g => g.Count() == 4);
        Assert.True(stats.Pages.SlabPurgedPages >= 3 * fullSlabs, $"{stats.Pages.SlabPurgedPages} pages purged in {fullSlabs} slabs");
        foreach (var slab in slabs.Where(g => g.Count() == 4))
        {
            byte* start = (byte*)slab.Key;
            Assert.True(Residency.IsResident(start), "the live region's first page was purged");
            for (nuint p = 2; p < 5; p++) Assert.False(Residency.IsResident(start + p * page), $"page {p} of a slab with three free regions is still resident");
        }

        foreach (nint b in kept) Assert.True(new Span<byte>((void*)b, RegionSize).IndexOfAnyExcept((byte)0x5A) < 0, "a live region lost its bytes");
        arena.Validate();

        // The purged regions are handed out again and work as before.
        var again = Enumerable.Range(0, 48).Select(_ => (nint)arena.Allocate(RegionSize)).ToArray();
        foreach (nint b in again) new Span<byte>((void*)b, RegionSize).Fill(0xA5);
        foreach (nint b in kept) Assert.True(new Span<byte>((void*)b, RegionSize).IndexOfAnyExcept((byte)0x5A) < 0, "a live region lost its bytes");
        arena.Validate();
        foreach (nint b in again.Concat(kept)) arena.Free((void*)b);
        arena.Purge();
        Assert.Equal(0, arena.GetStats().Allocated);
    }

    [Fact]
    public void PurgingWhileOtherThreadsAllocateAndFreeNeverTouchesALiveBlock()
    {
        using var arena = Arena.Create();
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        int running = 2;
        // Halfway through, both workers wait for one purge, so at least one runs while they hold blocks.
        using var halfway = new System.Threading.CountdownEvent(2);
        using var purgedOnce = new System.Threading.ManualResetEventSlim();
        var workers = Enumerable.Range(0, 2).Select(t => new System.Threading.Thread(() =>
        {
            bool signalled = false;
            try
            {
                var rng = new Random(t + 11);
                var live = new System.Collections.Generic.List<(nint P, int Size, byte Tag)>();
                for (int i = 0; i < 40_000; i++)
                {
                    if (i == 20_000)
                    {
                        signalled = true;
                        halfway.Signal();
                        purgedOnce.Wait();
                    }

                    if (live.Count < 300 && rng.Next(2) == 0)
                    {
                        // Small classes only, including the multi-page slabs whose free pages a purge gives back.
                        int size = rng.Next(1, 14_337);
                        byte tag = (byte)rng.Next(1, 256);
                        byte* p = (byte*)arena.Allocate((nuint)size);
                        new Span<byte>(p, size).Fill(tag);
                        live.Add(((nint)p, size, tag));
                    }
                    else if (live.Count > 0)
                    {
                        int k = rng.Next(live.Count);
                        var (p, size, tag) = live[k];
                        if (new Span<byte>((void*)p, size).IndexOfAnyExcept(tag) >= 0)
                            throw new InvalidOperationException($"a live block of {size} bytes lost its contents");
                        arena.FreeSized((void*)p, (nuint)size);
                        live[k] = live[^1];
                        live.RemoveAt(live.Count - 1);
                    }
                }

                foreach (var (p, size, _) in live) arena.FreeSized((void*)p, (nuint)size);
            }
            catch (Exception e)
            {
                errors.Enqueue(e);
            }
            finally
            {
                if (!signalled) halfway.Signal();
                System.Threading.Interlocked.Decrement(ref running);
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        halfway.Wait();
        arena.Purge();
        int purges = 1;
        purgedOnce.Set();
        while (System.Threading.Volatile.Read(ref running) > 0)
        {
            arena.Purge();
            purges++;
        }

        workers.ForEach(w => w.Join());
        Assert.Empty(errors);
        Assert.True(purges > 0, "no purge ran while the workers held blocks");
        arena.Validate();
    }

    [Fact]
    public void RegionsInAThreadCacheKeepTheirPages()
    {
        using var arena = Arena.Create();
        byte* live = (byte*)arena.Allocate(RegionSize);
        byte* cached = (byte*)arena.Allocate(RegionSize);
        new Span<byte>(cached, RegionSize).Fill(1);
        arena.Free(cached);

        // Another thread purges: this thread's cache is not flushed, so its region stays allocated in the slab.
        var purger = new System.Threading.Thread(arena.Purge);
        purger.Start();
        purger.Join();

        Assert.True(Residency.IsResident(cached + RegionSize - 1));
        Assert.True(arena.Allocate(RegionSize) == cached, "the cached region comes back first");
        arena.Free(cached);
        arena.Free(live);
        arena.Validate();
    }
}
