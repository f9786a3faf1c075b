using System;
using System.Linq;
using System.Runtime;
using System.Threading;
using Allocator.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Allocator.Tests.Arenas;

/// <summary>
/// A dead thread's cache is flushed without waiting for a GC: when another thread makes its first
/// cache, and on Purge. Process-wide: no GC may run meanwhile (a no-GC region), and another test's
/// thread could otherwise be the one to flush it.
/// </summary>
[Collection(ProcessWideCollection.Name)]
public sealed unsafe class DeadThreadCacheTests
{
    private static Arena NewArena() => Arena.Create(new ArenaOptions { TimeProvider = new FakeTimeProvider() });

    private static long Cached64(Arena arena) => arena.GetStats().Bins.Single(b => b.RegionSize == 64).CurrentRegions;

    // Allocates and frees 50 blocks of 64 B on a new thread; returns what its cache held before it died.
    private static long FillACacheAndDie(Arena arena)
    {
        long held = 0;
        var t = new Thread(() =>
        {
            var ps = new nint[50];
            for (int i = 0; i < ps.Length; i++) ps[i] = (nint)arena.Allocate(64);
            foreach (nint p in ps) arena.Free((void*)p);
            held = Cached64(arena);
        });
        t.Start();
        t.Join();
        return held;
    }

    private static void WithoutGc(Action body)
    {
        Assert.True(GC.TryStartNoGCRegion(32 << 20), "a no-GC region could be started");
        try
        {
            body();
            Assert.Equal(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
        }
        finally
        {
            if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
        }
    }

    [Fact]
    public void ANewThreadsFirstCacheFlushesTheCachesOfThreadsThatDied()
    {
        using var arena = NewArena();
        long held = 0, afterDeath = 0, afterNewThread = 0;
        WithoutGc(() =>
        {
            held = FillACacheAndDie(arena);
            afterDeath = Cached64(arena);
            var t = new Thread(() => arena.Free(arena.Allocate(4096)));
            t.Start();
            t.Join();
            afterNewThread = Cached64(arena);
        });

        Assert.True(held >= 50, "the dying thread's cache held its freed regions");
        Assert.Equal(held, afterDeath);
        Assert.Equal(0, afterNewThread);
        arena.Validate();
    }

    [Fact]
    public void PurgeFlushesTheCachesOfThreadsThatDied()
    {
        using var arena = NewArena();
        long held = 0, afterPurge = 0;
        WithoutGc(() =>
        {
            held = FillACacheAndDie(arena);
            arena.Purge();
            afterPurge = Cached64(arena);
        });

        Assert.True(held >= 50, "the dying thread's cache held its freed regions");
        Assert.Equal(0, afterPurge);
        Assert.Equal(0, arena.GetStats().Active);
        arena.Validate();
    }
}
