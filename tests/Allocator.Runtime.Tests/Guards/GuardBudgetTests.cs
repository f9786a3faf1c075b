using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using Allocator.Guards;
using Allocator.Map;
using Allocator.Metadata;
using Allocator.Os;
using Allocator.PageAllocators;
using Allocator.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Allocator.Tests.Guards;

/// <summary>
/// The guard-mapping budget: guard pages never take more than an arena's share of the process's
/// mapping limit, a request past it is served unguarded and counted, and every charge comes back.
/// Each test has its own small account, so the process's own (and other tests' arenas) cannot move it.
/// </summary>
[Collection(ProcessWideCollection.Name)]
public sealed unsafe class GuardBudgetTests
{
    private static readonly nuint Page = Pages.PageSize;

    // Every large block is sampled for guards; the model says which ones get them: a two-sided guard
    // costs four mappings, and is made only while the account stays within the limit.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LargeBlocksAreGuardedExactlyWhileTheBudgetHasRoom(bool retain)
    {
        var account = new GuardMappingAccount(maxMapCount: 40);
        long mappedBefore = Pages.MappedBytes;
        var map = new ExtentMap();
        var arena = Arena.Create(new ArenaOptions
        {
            Map = map,
            GuardAccount = account,
            GuardMappingShare = 1,
            GuardLargeEvery = 1,
            Retain = retain,
            ThreadCache = false,
            TimeProvider = new FakeTimeProvider(),
            DirtyDecayMs = 0,
        });
        var live = new List<(nint P, nuint Size, bool Guarded, byte Tag)>();
        var rng = new Random(18);
        long modelInUse = 0, modelSkipped = 0, guardedAfterSkip = 0;
        bool skippedSinceGuard = false;
        try
        {
            for (int step = 0; step < 1200; step++)
            {
                if (live.Count < 4 || (live.Count < 24 && rng.Next(2) == 0))
                {
                    nuint size = (nuint)rng.Next(16_385, 120_000);
                    bool room = modelInUse + 4 <= 40;
                    byte* p = (byte*)arena.Allocate(size);
                    byte tag = (byte)(step | 1);
                    new Span<byte>(p, (int)size).Fill(tag);
                    bool guarded = IsGuarded(arena, p);
                    Assert.True(room == guarded, $"step {step}: the model says guarded={room} ({modelInUse} mappings in use), the arena says {guarded}");
                    if (guarded) Assert.True(IsGuardedByKernel(p, arena.UsableSize(p)), $"step {step}: a guarded block's guard pages are not inaccessible");
                    if (room)
                    {
                        modelInUse += 4;
                        if (skippedSinceGuard) guardedAfterSkip++;
                        skippedSinceGuard = false;
                    }
                    else
                    {
                        modelSkipped++;
                        skippedSinceGuard = true;
                    }

                    live.Add(((nint)p, size, guarded, tag));
                }
                else
                {
                    int k = rng.Next(live.Count);
                    Assert.True(new ReadOnlySpan<byte>((void*)live[k].P, (int)live[k].Size).IndexOfAnyExcept(live[k].Tag) < 0, $"step {step}: a block's contents changed");
                    arena.Free((void*)live[k].P);
                    if (live[k].Guarded) modelInUse -= 4;
                    live.RemoveAt(k);
                }

                PageAllocatorStats s = arena.GetStats().Pages;
                Assert.Equal(modelInUse, s.GuardMappings);
                Assert.Equal(modelInUse, account.InUse);
                Assert.Equal(modelSkipped, s.GuardsSkippedForBudget);
                Assert.Equal(40, s.GuardMappingLimit);
                Assert.Equal(0, s.GuardProtectRefusals);
                arena.Validate();
            }

            // The budget was crossed, and guards came back after it, many times over.
            Assert.True(guardedAfterSkip >= 10, $"the budget was crossed and recovered only {guardedAfterSkip} times");
            foreach (var (p, _, _, _) in live) arena.Free((void*)p);
            Assert.Equal(0, account.InUse);
        }
        finally
        {
            arena.Dispose();
            map.Dispose();
        }

        Assert.Equal(0, account.InUse);
        Assert.Equal(mappedBefore, Pages.MappedBytes);
    }

    // Slabs and large blocks together, with and without retain: a budget of 24 mappings is crossed
    // again and again, nothing is corrupted, and the whole charge comes back with the arena.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AMixedGuardedWorkloadCrossingASmallBudgetStaysIntactAndGivesEveryChargeBack(bool retain)
    {
        var account = new GuardMappingAccount(maxMapCount: 24);
        long mappedBefore = Pages.MappedBytes;
        var map = new ExtentMap();
        var arena = Arena.Create(new ArenaOptions
        {
            Map = map,
            GuardAccount = account,
            GuardMappingShare = 1,
            GuardSmallEvery = 1,
            GuardLargeEvery = 1,
            Retain = retain,
            ThreadCache = false,
            TimeProvider = new FakeTimeProvider(),
            DirtyDecayMs = 0,
        });
        var live = new List<(nint P, int Size, byte Tag)>();
        var guardPages = new HashSet<nint>();
        var rng = new Random(1812);
        try
        {
            for (int step = 0; step < 1500; step++)
            {
                if (live.Count < 8 || rng.Next(5) < 3)
                {
                    int size = rng.Next(4) == 0 ? rng.Next(16_385, 90_000) : rng.Next(1, 14_000);
                    byte* p = (byte*)arena.Allocate((nuint)size);
                    byte tag = (byte)(step | 1);
                    new Span<byte>(p, size).Fill(tag);
                    live.Add(((nint)p, size, tag));
                }

                if (live.Count > 60 || rng.Next(5) < 2)
                {
                    int k = rng.Next(live.Count);
                    arena.Free((void*)live[k].P);
                    live.RemoveAt(k);
                }

                if (step % 100 == 0) arena.Purge();
                foreach (var (p, size, tag) in live) Assert.True(new ReadOnlySpan<byte>((void*)p, size).IndexOfAnyExcept(tag) < 0, $"step {step}: a live block's contents changed");
                PageAllocatorStats s = arena.GetStats().Pages;
                Assert.True(s.GuardMappings <= 24 && account.InUse == s.GuardMappings, $"step {step}: {s.GuardMappings} guard mappings, account {account.InUse}");
                if (step % 25 == 0)
                {
                    arena.Validate();
                    foreach (AddressSpaceRegion r in arena.GetAddressSpace())
                    {
                        if (r.Kind == AddressSpaceKind.Guard) guardPages.Add((nint)r.Start);
                    }
                }
            }

            PageAllocatorStats end = arena.GetStats().Pages;
            Assert.True(end.GuardsSkippedForBudget > 100, $"only {end.GuardsSkippedForBudget} requests were past the budget");
            Assert.True(guardPages.Count > 0, "no guard page was ever in place");
            arena.Validate();
            // Only the guard pages in place at the end are looked at after Dispose: an address unmapped
            // earlier may by then hold another mapping of the process (a new thread's signal stack has
            // a PROT_NONE page of its own).
            guardPages.Clear();
            foreach (AddressSpaceRegion r in arena.GetAddressSpace())
            {
                if (r.Kind == AddressSpaceKind.Guard) guardPages.Add((nint)r.Start);
            }

            Assert.True(guardPages.Count > 0, "no guard page is in place at the end");
        }
        finally
        {
            arena.Dispose();
            map.Dispose();
        }

        foreach (nint g in guardPages) Assert.True(ProcMaps.CountProtNone((void*)g, Page) == 0, $"the guard page at 0x{g:x} outlived the arena");
        Assert.Equal(0, account.InUse);
        Assert.Equal(mappedBefore, Pages.MappedBytes);
    }

    [Fact]
    public void TheSkipsAreInTheStatsTheJsonTheTextAndTheMetrics()
    {
        var account = new GuardMappingAccount(maxMapCount: 8);
        using var arena = Arena.Create(new ArenaOptions
        {
            GuardAccount = account,
            GuardMappingShare = 0.5,
            GuardLargeEvery = 1,
            ThreadCache = false,
            TimeProvider = new FakeTimeProvider(),
        });
        // Limit 4 mappings: the first block takes them, the next two are skipped.
        void* a = arena.Allocate(40_000), b = arena.Allocate(40_000), c = arena.Allocate(40_000);
        ArenaStats stats = arena.GetStats();
        Assert.Equal(4, stats.Pages.GuardMappings);
        Assert.Equal(4, stats.Pages.GuardMappingLimit);
        Assert.Equal(2, stats.Pages.GuardsSkippedForBudget);

        using (JsonDocument doc = JsonDocument.Parse(stats.ToJson()))
        {
            JsonElement pages = doc.RootElement.GetProperty("pages");
            Assert.Equal(2, pages.GetProperty("guardsSkippedForBudget").GetInt64());
            Assert.Equal(4, pages.GetProperty("guardMappings").GetInt64());
            Assert.Equal(4, pages.GetProperty("guardMappingLimit").GetInt64());
            Assert.Equal(0, pages.GetProperty("guardProtectRefusals").GetInt64());
        }

        Assert.Contains("guards:    mappings 4 (all arenas at most 4), skipped for budget 2, protect refusals 0", stats.ToString());

        Dictionary<string, long> seen = ArenaMeasurements.Read(arena);
        Assert.Equal(2, seen["allocator.arena.guard.skipped_budget"]);
        Assert.Equal(4, seen["allocator.arena.guard.mappings"]);
        Assert.Equal(0, seen["allocator.arena.guard.protect_refusals"]);

        // Freeing the guarded block gives its four mappings back: the next block is guarded again.
        arena.Free(a);
        void* d = arena.Allocate(40_000);
        Assert.True(IsGuarded(arena, d) && IsGuardedByKernel((byte*)d, arena.UsableSize(d)));
        Assert.Equal(2, arena.GetStats().Pages.GuardsSkippedForBudget);
        arena.Free(b);
        arena.Free(c);
        arena.Free(d);
        Assert.Equal(0, account.InUse);
    }

    [Fact]
    public void AllArenasShareOneAccountAndEachStopsAtItsOwnShare()
    {
        var account = new GuardMappingAccount(maxMapCount: 16);
        ArenaOptions Options(double share) => new()
        {
            GuardAccount = account,
            GuardMappingShare = share,
            GuardLargeEvery = 1,
            ThreadCache = false,
            TimeProvider = new FakeTimeProvider(),
        };
        using var wide = Arena.Create(Options(1));
        using var narrow = Arena.Create(Options(0.5));
        // The wide arena takes 8 of the 16 mappings: the narrow one (limit 8) can guard nothing more,
        // the wide one still has room for two more guarded blocks.
        void* w1 = wide.Allocate(40_000), w2 = wide.Allocate(40_000);
        void* n1 = narrow.Allocate(40_000);
        void* w3 = wide.Allocate(40_000), w4 = wide.Allocate(40_000), w5 = wide.Allocate(40_000);
        Assert.False(IsGuarded(narrow, n1));
        Assert.True(IsGuarded(wide, w4) && IsGuardedByKernel((byte*)w4, wide.UsableSize(w4)));
        Assert.False(IsGuarded(wide, w5));
        Assert.Equal(1, narrow.GetStats().Pages.GuardsSkippedForBudget);
        Assert.Equal(1, wide.GetStats().Pages.GuardsSkippedForBudget);
        Assert.Equal(16, account.InUse);
        foreach (void* p in new[] { (nint)w1, (nint)w2, (nint)w3, (nint)w4, (nint)w5 }) wide.Free(p);
        narrow.Free(n1);
        Assert.Equal(0, account.InUse);
    }

    [Fact]
    public void ConcurrentChargesNeverTakeTheAccountPastTheLimit()
    {
        var account = new GuardMappingAccount(maxMapCount: 1_000);
        int granted = 0;
        System.Threading.Tasks.Parallel.For(0, 8, _ =>
        {
            for (int i = 0; i < 200; i++)
            {
                if (account.TryCharge(2, limit: 100)) System.Threading.Interlocked.Increment(ref granted);
            }
        });
        Assert.Equal(50, granted);
        Assert.Equal(100, account.InUse);
        account.Release(100);
        Assert.Equal(0, account.InUse);
    }

    [Fact]
    public void TheLimitIsReadFromTheKernelWithAFallback()
    {
        string dir = Path.Combine(Path.GetTempPath(), "alloc-maxmap-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "good"), "262144\n");
            File.WriteAllText(Path.Combine(dir, "bad"), "lots\n");
            Assert.Equal(262_144, GuardMappingAccount.ReadMaxMapCount(Path.Combine(dir, "good")));
            Assert.Equal(GuardMappingAccount.FallbackMaxMapCount, GuardMappingAccount.ReadMaxMapCount(Path.Combine(dir, "bad")));
            Assert.Equal(GuardMappingAccount.FallbackMaxMapCount, GuardMappingAccount.ReadMaxMapCount(Path.Combine(dir, "missing")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        if (File.Exists("/proc/sys/vm/max_map_count"))
            Assert.Equal(long.Parse(File.ReadAllText("/proc/sys/vm/max_map_count").Trim()), GuardMappingAccount.Process.MaxMapCount);
        using var arena = Arena.Create(new ArenaOptions { TimeProvider = new FakeTimeProvider() });
        Assert.Equal(GuardMappingAccount.Process.MaxMapCount / 4, arena.GetStats().Pages.GuardMappingLimit);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.25)]
    [InlineData(1.0000001)]
    [InlineData(double.NaN)]
    public void AShareOutsideZeroToOneIsRefusedByName(double share)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Arena.Create(new ArenaOptions { GuardMappingShare = share }));
        Assert.Equal(nameof(ArenaOptions.GuardMappingShare), e.ParamName);
    }

    // What the arena's metadata says of the block's extent.
    internal static bool IsGuarded(Arena arena, void* p)
    {
        ExtentMap map = ((Arena<RuntimeArenaPolicy>)arena).PageAllocator.Context.Map;
        Assert.True(map.TryLookup(p, out RtreeContents c) && c.Edata != null);
        return c.Edata->IsGuarded;
    }

    // Both guard pages of a two-sided guarded block are inaccessible, as the kernel sees them.
    internal static bool IsGuardedByKernel(byte* p, nuint usable)
    {
        byte* start = (byte*)((nuint)p & ~(Page - 1));
        byte* past = (byte*)(((nuint)p + usable + Page - 1) & ~(Page - 1));
        return ProcMaps.PermissionsAt(start - Page) == "---p" && ProcMaps.PermissionsAt(past) == "---p";
    }
}
