using System;
using System.Diagnostics;
using System.Threading;
using Allocator.PageAllocators;
using Allocator.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Allocator.Tests.PageAllocators;

// The process-wide purger is shared state: these tests switch it and count its shards.
[Collection(ProcessWideCollection.Name)]
public sealed unsafe class BackgroundPurgerTests
{
    private const int DecayMs = 500;

    [Fact]
    public void AFreedBurstGoesBackToTheOsWithinTheDecayTimePlusASecondWithoutAnyCall()
    {
        // No thread cache, so every freed block reaches the dirty pages at once.
        using var arena = (Arena<RuntimeArenaPolicy>)Arena.Create(new ArenaOptions
        {
            DirtyDecayMs = DecayMs,
            MuzzyDecayMs = 0,
            ThreadCache = false,
        });
        Assert.True(arena.PageAllocator.IsBackgroundPurged);

        const int blocks = 32;
        const nuint size = 2 << 20;
        var burst = new byte*[blocks];
        for (int i = 0; i < blocks; i++)
        {
            burst[i] = (byte*)arena.Allocate(size);
            new Span<byte>(burst[i], (int)size).Fill(0x5a);
        }

        foreach (byte* p in burst) arena.Free(p);
        var sinceFree = Stopwatch.StartNew();
        long dirtyAfterFree = Unreturned(arena);
        // The burst is dirty now: a purge at free time would make the rest of the test prove nothing.
        Assert.True(dirtyAfterFree >= blocks * (long)size / 2, $"only {dirtyAfterFree} bytes dirty right after the burst");

        // From here the test only reads statistics, which never tick the arena.
        TimeSpan deadline = TimeSpan.FromMilliseconds(DecayMs) + TimeSpan.FromSeconds(1);
        while (Unreturned(arena) != 0 && sinceFree.Elapsed < deadline) Thread.Sleep(10);
        TimeSpan elapsed = sinceFree.Elapsed;
        Assert.True(Unreturned(arena) == 0,
            $"{Unreturned(arena)} of {dirtyAfterFree} bytes still dirty or muzzy {elapsed.TotalMilliseconds:F0} ms after the free (decay time {DecayMs} ms)");
    }

    [Fact]
    public void ACustomClockKeepsAnArenaOffThePurgerUnlessItAsks()
    {
        var clock = new FakeTimeProvider();
        using var implicitly = (Arena<RuntimeArenaPolicy>)Arena.Create(new ArenaOptions { TimeProvider = clock });
        using var explicitly = (Arena<RuntimeArenaPolicy>)Arena.Create(new ArenaOptions { TimeProvider = clock, BackgroundPurge = true });
        using var systemClock = (Arena<RuntimeArenaPolicy>)Arena.Create(new ArenaOptions { TimeProvider = TimeProvider.System });
        Assert.False(implicitly.PageAllocator.IsBackgroundPurged);
        Assert.True(explicitly.PageAllocator.IsBackgroundPurged);
        Assert.True(systemClock.PageAllocator.IsBackgroundPurged);
    }

    [Fact]
    public void SwitchedOffNewArenasPurgeOnTheirOwnThreadsAndExplicitRequestsStillWin()
    {
        bool was = BackgroundPurger.Enabled;
        BackgroundPurger.Enabled = false;
        try
        {
            using var off = (Arena<RuntimeArenaPolicy>)Arena.Create();
            using var asked = (Arena<RuntimeArenaPolicy>)Arena.Create(new ArenaOptions { BackgroundPurge = true });
            Assert.False(off.PageAllocator.IsBackgroundPurged);
            Assert.True(asked.PageAllocator.IsBackgroundPurged);
        }
        finally
        {
            BackgroundPurger.Enabled = was;
        }
    }

    [Fact]
    public void OneThreadServesEveryArenaAndDisposeTakesEachOff()
    {
        int before = BackgroundPurger.Count;
        var arenas = new Arena[4];
        for (int i = 0; i < arenas.Length; i++) arenas[i] = Arena.Create();
        Assert.Equal(before + arenas.Length, BackgroundPurger.Count);
        Assert.True(BackgroundPurger.IsRunning);
        foreach (Arena a in arenas) a.Dispose();
        Assert.Equal(before, BackgroundPurger.Count);
    }

    private static long Unreturned(Arena<RuntimeArenaPolicy> arena)
    {
        PageAllocatorStats s = arena.PageAllocator.GetStats();
        return s.Dirty + s.Muzzy;
    }
}
