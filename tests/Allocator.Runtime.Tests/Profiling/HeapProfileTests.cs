using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using Allocator.Profiling;

namespace Allocator.Tests.Profiling;

/// <summary>
/// Sampling and profiles: exact figures when every block is sampled, unbiased estimates at the
/// default interval, and the profile kept consistent by cross-thread frees, Reset and Dispose.
/// </summary>
public sealed unsafe class HeapProfileTests
{
    private const long DefaultInterval = 1 << 19;

    private static Arena EveryBlock() => Arena.Create(new ArenaOptions { ProfileSampleBytes = 1, BackgroundPurge = false });

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static List<nint> PathA(Arena arena, int count, nuint size)
    {
        var blocks = new List<nint>();
        for (int i = 0; i < count; i++) blocks.Add((nint)arena.Allocate(size));
        return blocks;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static List<nint> PathB(Arena arena, int count, nuint size)
    {
        var blocks = new List<nint>();
        for (int i = 0; i < count; i++) blocks.Add((nint)arena.Allocate(size));
        return blocks;
    }

    private static HeapProfileSite SiteOf(HeapProfile profile, string method) =>
        profile.Sites.Single(s => s.Frames.Count > 0 && s.Frames[0].EndsWith("HeapProfileTests." + method, StringComparison.Ordinal));

    [Fact]
    public void EveryByteSampledGivesExactLiveBytesPerPathAndFreeingHalfHalvesThem()
    {
        using Arena arena = EveryBlock();
        // 64 and 1000 bytes: usable sizes 64 and 1024; 40 000 bytes: a large class.
        List<nint> a = PathA(arena, 100, 64);
        List<nint> b = PathB(arena, 50, 1000);
        List<nint> c = PathA(arena, 4, 40_000);
        ulong large = (ulong)arena.UsableSize((void*)c[0]);

        HeapProfile profile = arena.GetHeapProfile();
        HeapProfileSite siteA = SiteOf(profile, nameof(PathA));
        HeapProfileSite siteB = SiteOf(profile, nameof(PathB));
        Assert.Equal(100 * 64 + 4 * (long)large, siteA.LiveBytes);
        Assert.Equal(104, siteA.LiveCount);
        Assert.Equal(50 * 1024, siteB.LiveBytes);
        Assert.Equal(50, siteB.LiveCount);
        Assert.Equal(siteA.LiveBytes + siteB.LiveBytes, profile.LiveBytes);
        Assert.Equal((nuint)64, arena.UsableSize((void*)a[0]));
        arena.Validate();

        for (int i = 0; i < 50; i++) arena.Free((void*)a[i]);
        for (int i = 0; i < 25; i++) arena.FreeSized((void*)b[i], 1000);
        for (int i = 0; i < 2; i++) arena.Free((void*)c[i]);

        profile = arena.GetHeapProfile();
        Assert.Equal((100 * 64 + 4 * (long)large) / 2, SiteOf(profile, nameof(PathA)).LiveBytes);
        Assert.Equal(52, SiteOf(profile, nameof(PathA)).LiveCount);
        Assert.Equal(25 * 1024, SiteOf(profile, nameof(PathB)).LiveBytes);
        // Cumulative figures keep what was freed.
        Assert.Equal(50 * 1024, SiteOf(profile, nameof(PathB)).AllocatedBytes);
        Assert.Equal(100 * 64 + 4 * (long)large + 50 * 1024, profile.AllocatedBytes);
        arena.Validate();

        foreach (nint p in a.Skip(50).Concat(b.Skip(25)).Concat(c.Skip(2))) arena.Free((void*)p);
        Assert.Equal(0, arena.GetHeapProfile().LiveBytes);
        arena.Validate();
    }

    [Fact]
    public void SampledBlocksAreUsableLikeAnyOther()
    {
        using Arena arena = EveryBlock();
        var p = (byte*)arena.AllocateZeroed(100);
        for (int i = 0; i < 112; i++) Assert.Equal(0, p[i]);
        for (int i = 0; i < 112; i++) p[i] = (byte)i;
        // Small to large and back moves the block; its bytes and the profile follow.
        p = (byte*)arena.Reallocate(p, 50_000);
        Assert.Equal(111, p[111]);
        Assert.Equal((long)arena.UsableSize(p), arena.GetHeapProfile().LiveBytes);
        p = (byte*)arena.Reallocate(p, 24);
        Assert.Equal(23, p[23]);
        Assert.Equal(32, arena.GetHeapProfile().LiveBytes);
        void* aligned = arena.AllocateAligned(64, 256);
        Assert.Equal(0u, (nuint)aligned % 256);
        arena.FreeSized(aligned, 64, 256);
        arena.Free(p);
        Assert.Throws<InvalidOperationException>(() => arena.Free(p));
        Assert.Equal(0, arena.GetHeapProfile().LiveBytes);
        arena.Validate();
    }

    [Fact]
    public void FreeSizedForgetsSampledSmallBlocksWithoutCachingThem()
    {
        // FreeSized pushes a block into the thread's cache without a lookup unless it sits on a page
        // boundary; every sampled small block does (promoted to a page), so each must reach the lookup.
        // The handle makes this thread's cache exist (sampled allocations alone never create it).
        using var arena = new Arena<RuntimeArenaPolicy>(new ArenaOptions { ProfileSampleBytes = 1, BackgroundPurge = false });
        Arena<RuntimeArenaPolicy>.ThreadHandle handle = arena.GetThreadHandle();
        List<nint> blocks = PathA(arena, 200, 64);
        Assert.Equal(200 * 64, arena.GetHeapProfile().LiveBytes);
        for (int i = 0; i < 100; i++) arena.FreeSized((void*)blocks[i], 64);
        for (int i = 100; i < 200; i++) handle.FreeSized((void*)blocks[i], 64);
        Assert.Equal(0, arena.GetHeapProfile().LiveBytes);
        arena.Validate();

        // Nothing of the freed pages came back as a cached region: a fresh block is sampled again.
        void* again = arena.Allocate(64);
        Assert.Equal(64, arena.GetHeapProfile().LiveBytes);
        arena.FreeSized(again, 64);
        Assert.Equal(0, arena.GetHeapProfile().LiveBytes);
        arena.Validate();
    }

    [Fact]
    public void UnsampledBlocksOfAProfiledArenaAreFreedSizedIntoTheCache()
    {
        // An interval no test reaches: nothing is sampled, and sized frees of blocks off a page
        // boundary take the inlined push, so the next allocation of the class returns the same block.
        // The thread's countdown restarts, so that a draw of another test's interval cannot sample here.
        ProfileSampler.ResetThread(7);
        using Arena arena = Arena.Create(new ArenaOptions { ProfileSampleBytes = 1L << 40, BackgroundPurge = false });
        void* first = arena.Allocate(64);
        void* second = arena.Allocate(64);
        void* block = ((nuint)first & (nuint)(Environment.SystemPageSize - 1)) != 0 ? first : second;
        arena.FreeSized(block, 64);
        Assert.Equal((nint)block, (nint)arena.Allocate(64));
        Assert.Equal(0, arena.GetHeapProfile().LiveBytes);
        arena.Free(first);
        arena.Free(second);
        arena.Validate();
    }

    [Fact]
    public void ThreadHandleAllocationsAreSampled()
    {
        var arena = new Arena<RuntimeArenaPolicy>(new ArenaOptions { ProfileSampleBytes = 1, BackgroundPurge = false });
        try
        {
            Arena<RuntimeArenaPolicy>.ThreadHandle handle = arena.GetThreadHandle();
            void* p = handle.Allocate(48);
            Assert.Equal(48, arena.GetHeapProfile().LiveBytes);
            handle.FreeSized(p, 48);
            Assert.Equal(0, arena.GetHeapProfile().LiveBytes);
            arena.Validate();
        }
        finally
        {
            arena.Dispose();
        }
    }

    // A handle's allocation that misses its cache (here every one: 16 KiB is above the inlined
    // classes) falls back to the arena's path, and its bytes must be counted once on the way, or the
    // handle samples twice as often as the interval says and every estimate doubles. Seeded, so the
    // figure is the same on every run; 2^16 bytes per sample over 256 MiB is about 4,000 samples of
    // 16 KiB blocks, a relative standard error near 1.5 %.
    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    public void ThreadHandleCacheMissesCountTheirBytesOnce(ulong seed)
    {
        const nuint size = 16 << 10;
        const long total = 256L << 20;
        ProfileSampler.ResetThread(seed);
        using var arena = new Arena<RuntimeArenaPolicy>(new ArenaOptions { ProfileSampleBytes = 1 << 16, BackgroundPurge = false });
        Arena<RuntimeArenaPolicy>.ThreadHandle handle = arena.GetThreadHandle();
        for (long allocated = 0; allocated < total; allocated += (long)size)
        {
            void* p = HandlePath(handle, size);
            handle.FreeSized(p, size);
        }

        HeapProfileSite site = SiteOf(arena.GetHeapProfile(), nameof(HandlePath));
        Assert.InRange(site.AllocatedBytes, total * 0.9, total * 1.1);
        Assert.Equal(0, site.LiveBytes);
        arena.Validate();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void* HandlePath(Arena<RuntimeArenaPolicy>.ThreadHandle handle, nuint size) => handle.Allocate(size);

    [Fact]
    public void CrossThreadFreesRemoveTheSamplesTheyFree()
    {
        using Arena arena = EveryBlock();
        List<nint> blocks = PathA(arena, 1000, 200);
        List<nint> large = PathB(arena, 10, 100_000);
        var threads = new Thread[4];
        for (int t = 0; t < threads.Length; t++)
        {
            int first = t;
            threads[t] = new Thread(() =>
            {
                for (int i = first; i < blocks.Count; i += threads.Length) arena.Free((void*)blocks[i]);
                for (int i = first; i < large.Count; i += threads.Length) arena.Free((void*)large[i]);
            });
            threads[t].Start();
        }

        foreach (Thread t in threads) t.Join();
        HeapProfile profile = arena.GetHeapProfile();
        Assert.Equal(0, profile.LiveBytes);
        Assert.Equal(0, profile.LiveCount);
        Assert.Equal(1000 * 224, SiteOf(profile, nameof(PathA)).AllocatedBytes);
        arena.Validate();
    }

    [Fact]
    public void ResetForgetsEveryLiveSampleAndKeepsTheCumulativeFigures()
    {
        using Arena arena = EveryBlock();
        PathA(arena, 300, 64);
        PathB(arena, 3, 70_000);
        long allocated = arena.GetHeapProfile().AllocatedBytes;
        arena.Reset();
        HeapProfile profile = arena.GetHeapProfile();
        Assert.Equal(0, profile.LiveBytes);
        Assert.Equal(0, profile.LiveCount);
        Assert.Equal(allocated, profile.AllocatedBytes);
        Assert.Equal(0, arena.GetStats().Pages.Active);
        arena.Validate();

        List<nint> again = PathA(arena, 10, 64);
        Assert.Equal(640, arena.GetHeapProfile().LiveBytes);
        foreach (nint p in again) arena.Free((void*)p);
        arena.Validate();
    }

    [Fact]
    public void ProfilingOffRecordsNothing()
    {
        using Arena arena = Arena.Create(new ArenaOptions { BackgroundPurge = false });
        List<nint> blocks = PathA(arena, 100, 64);
        HeapProfile profile = arena.GetHeapProfile();
        Assert.Equal(0, profile.SampleInterval);
        Assert.Empty(profile.Sites);
        foreach (nint p in blocks) arena.Free((void*)p);
    }

    [Theory]
    [InlineData(-1L)]
    [InlineData((1L << 40) + 1)]
    public void AnIntervalOutOfRangeIsRefusedByName(long interval)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Arena.Create(new ArenaOptions { ProfileSampleBytes = interval }));
        Assert.Equal(nameof(ArenaOptions.ProfileSampleBytes), e.ParamName);
    }

    // Seeded runs (each thread's draws are replayed from the seed), so the test is deterministic. At
    // 2^19 bytes per sample the relative standard error of a site's bytes is about sqrt(2^19 / B) for
    // B bytes of small blocks: 2 % for the gigabyte each site allocates here, so 10 % is five of them.
    // (A count is estimated far less tightly when blocks of a few bytes stand for 2^19 / size blocks
    // each, so only the site of large blocks has its count checked.)
    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    public void DefaultIntervalEstimatesEachSiteWithinTenPercent(ulong seed)
    {
        using Arena arena = Arena.Create(new ArenaOptions { ProfileSampleBytes = DefaultInterval, BackgroundPurge = false });
        ProfileSampler.ResetThread(seed);
        var random = new Random((int)seed);
        var a = new List<nint>();
        var b = new List<nint>();
        long trueA = 0, trueB = 0, allocatedA = 0, allocatedB = 0;
        // Site A: small and medium blocks, a third freed again at once. Site B: large blocks, a third
        // of them freed at once too.
        while (allocatedA < 1L << 30 || allocatedB < 1L << 30)
        {
            bool large = allocatedB < allocatedA;
            nuint size = large ? (nuint)random.Next(16_385, 2 << 20)
                : (nuint)(random.Next(3) == 0 ? random.Next(1, 16_384) : random.Next(1, 512));
            void* p = large ? MixB(arena, size) : MixA(arena, size);
            long usable = (long)arena.UsableSize(p);
            if (large) allocatedB += usable;
            else allocatedA += usable;
            if (random.Next(3) == 0)
            {
                arena.Free(p);
            }
            else if (large)
            {
                b.Add((nint)p);
                trueB += usable;
            }
            else
            {
                a.Add((nint)p);
                trueA += usable;
            }
        }

        HeapProfile profile = arena.GetHeapProfile();
        HeapProfileSite siteA = SiteOf(profile, nameof(MixA));
        HeapProfileSite siteB = SiteOf(profile, nameof(MixB));
        Assert.InRange(siteA.LiveBytes, trueA * 0.9, trueA * 1.1);
        Assert.InRange(siteA.AllocatedBytes, allocatedA * 0.9, allocatedA * 1.1);
        Assert.InRange(siteB.LiveBytes, trueB * 0.9, trueB * 1.1);
        Assert.InRange(siteB.AllocatedBytes, allocatedB * 0.9, allocatedB * 1.1);
        Assert.InRange(siteB.LiveCount, b.Count * 0.9, b.Count * 1.1);
        arena.Validate();
        foreach (nint p in a.Concat(b)) arena.Free((void*)p);
        Assert.Equal(0, arena.GetHeapProfile().LiveBytes);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void* MixA(Arena arena, nuint size) => arena.Allocate(size);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void* MixB(Arena arena, nuint size) => arena.Allocate(size);
}
