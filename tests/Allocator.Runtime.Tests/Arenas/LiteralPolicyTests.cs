using System;
using System.Linq;
using Allocator.Extents;
using Allocator.Hooks;
using Allocator.PageAllocators;
using Allocator.Sizing;
using Microsoft.Extensions.Time.Testing;

namespace Allocator.Tests.Arenas;

/// <summary>
/// An arena whose policy members are literals, as a generated policy's are: the extent layer is
/// compiled for it, its tables are read from the policy, and the options cannot contradict it.
/// </summary>
[Collection(Infrastructure.ProcessWideCollection.Name)]
public sealed unsafe class LiteralPolicyTests
{
    [Fact]
    public void TheArenaRunsOnThePolicysTablesAndItsOwnCopyOfTheExtentLayer()
    {
        using var arena = new Arena<TestPolicy<SlabsGuarded>>();
        var blocks = new (nint Pointer, nuint Size)[3_000];
        var random = new Random(7);
        for (int round = 0; round < 4; round++)
        {
            for (int i = 0; i < blocks.Length; i++)
            {
                nuint size = (nuint)random.Next(1, i % 10 == 0 ? 200_000 : 2_000);
                byte* p = (byte*)arena.Allocate(size);
                p[0] = 1;
                p[size - 1] = 2;
                Assert.True(arena.UsableSize(p) >= size);
                blocks[i] = ((nint)p, size);
            }

            arena.Validate();
            foreach (var (pointer, size) in blocks) arena.FreeSized((void*)pointer, size);
            arena.Purge();
            arena.Validate();
        }

        // Every slab is guarded by this policy, so freed slabs were cached in the guarded set.
        ExtentContext ctx = arena.PageAllocator.Context;
        Assert.Equal(1, arena.PageAllocator.Sampler.SmallEvery);
        Assert.True(ctx.Retained.GuardedEset.Count + ctx.Dirty.GuardedEset.Count > 0);
        Assert.Equal(0, arena.GetStats().Allocated);
    }

    [Fact]
    public void TheOptionsCannotContradictALiteralPolicy()
    {
        var clock = new FakeTimeProvider();
        using var arena = new Arena<TestPolicy<SlabsGuarded>>(new ArenaOptions
        {
            Retain = false,
            GuardSmallEvery = 0,
            LgExtentMaxActiveFit = 2,
            DirtyDecayMs = -1,
            TimeProvider = clock,
        });

        ExtentContext ctx = arena.PageAllocator.Context;
        Assert.True(ctx.Retain);
        Assert.Equal(6, ctx.LgExtentMaxActiveFit);
        Assert.Equal(1, arena.PageAllocator.Sampler.SmallEvery);
        Assert.Equal(10_000, ctx.DirtyDecayMs);
        // What the policy does not fix still comes from the options.
        Assert.Same(clock, arena.PageAllocator.Classic.TimeProvider);
    }

    [Fact]
    public void APageAllocatorRefusesOptionsThatDisagreeWithItsLiteralPolicy()
    {
        uint index = ArenaIndices.Rent();
        try
        {
            var e = Assert.Throws<ArgumentException>(() => new PageAllocator<TestPolicy<SlabsGuarded>>(index, new PageAllocatorOptions { Retain = false, GuardSmallEvery = 1 }));
            Assert.Contains("Retain", e.Message);
            e = Assert.Throws<ArgumentException>(() => new PageAllocator<TestPolicy<SlabsGuarded>>(index, new PageAllocatorOptions { GuardSmallEvery = 0 }));
            Assert.Contains("GuardSmallEvery", e.Message);
            e = Assert.Throws<ArgumentException>(() => new PageAllocator<TestPolicy<SlabsGuarded>>(index,
                new PageAllocatorOptions { GuardSmallEvery = 1, Hooks = new Infrastructure.TestExtentHooks(retain: true) }));
            Assert.Contains("default hooks", e.Message);

            using var agreeing = new PageAllocator<TestPolicy<SlabsGuarded>>(index, new PageAllocatorOptions { GuardSmallEvery = 1 });
            Assert.Equal(1, agreeing.Sampler.SmallEvery);
        }
        finally
        {
            ArenaIndices.Return(index);
        }
    }

    [Fact]
    public void TablesThatDisagreeWithTheRuntimesSizeClassesAreRefusedNamingTheEntry()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new Arena<TestPolicy<WrongMagic>>());
        Assert.Contains("division magic of bin 5", e.Message);
        Assert.Contains("different versions", e.Message);
    }

    [Fact]
    public void AnArenaRefusedForItsTablesGivesItsIndexBack()
    {
        // The lowest free index is rented first, so a leaked one shows as a different next index.
        uint before = ArenaIndices.Rent();
        ArenaIndices.Return(before);
        Assert.Throws<InvalidOperationException>(() => new Arena<TestPolicy<WrongMagic>>());
        uint after = ArenaIndices.Rent();
        ArenaIndices.Return(after);
        Assert.Equal(before, after);
    }

    [Fact]
    public void DecayTimesSetAtRunTimeAreHonouredWhenThePolicyDeclaredNoDecay()
    {
        var clock = new FakeTimeProvider();
        using var arena = new Arena<TestPolicy<NeverDecays>>(new ArenaOptions { TimeProvider = clock });
        // Above what the thread cache keeps, below the oversize threshold: freed, it stays dirty.
        void* big = arena.Allocate(4 << 20);
        arena.Free(big);
        long dirty = arena.GetStats().Dirty;
        Assert.True(dirty >= 4 << 20, $"dirty {dirty}");

        arena.SetDecayTimes(1000, 0);
        Assert.Equal(dirty, arena.GetStats().Dirty);
        // The first epoch that passes counts the cached pages as new, and once the whole decay time
        // has passed after it they are purged. Each round fills and flushes the thread
        // cache often enough for its decay ticks to reach the page allocator.
        for (int round = 0; round < 2; round++)
        {
            clock.Advance(TimeSpan.FromSeconds(2));
            var blocks = new nint[20_000];
            for (int i = 0; i < blocks.Length; i++) blocks[i] = (nint)arena.Allocate(64);
            foreach (nint p in blocks) arena.Free((void*)p);
        }

        // The big extent decayed (the slabs the rounds freed may still be dirty: they are recent).
        ArenaStats stats = arena.GetStats();
        Assert.True(stats.Pages.DirtyPurgedPages >= (4 << 20) / Environment.SystemPageSize, $"purged {stats.Pages.DirtyPurgedPages} pages");
        Assert.True(stats.Dirty < 4 << 20, $"dirty {stats.Dirty}");
    }

    [Fact]
    public void FreeRefusesEveryAddressInsideARegionOfEveryBinAndTakesTheStarts()
    {
        // The inlined free of a literal policy tests region starts with its own per-type table.
        using var arena = new Arena<TestPolicy<NeverDecays>>();
        SizeClasses sc = SizeClasses.Default;
        for (int b = 0; b < sc.BinCount; b++)
        {
            nuint size = (nuint)sc.GetBin(b).RegionSize;
            byte* first = (byte*)arena.Allocate(size);
            byte* second = (byte*)arena.Allocate(size);
            foreach (nuint offset in new nuint[] { 1, 8, 16, size / 2, size - 16, size - 1 })
            {
                if (offset == 0 || offset >= size) continue;
                var ex = Assert.Throws<InvalidOperationException>(() => arena.Free(first + offset));
                Assert.Contains($"0x{(nuint)(first + offset):x}", ex.Message);
            }

            arena.Free(second);
            arena.Free(first);
        }

        arena.Purge();
        arena.Validate();
        Assert.Equal(0, arena.GetStats().Allocated);
    }

    [Fact]
    public void AnotherPolicyHeldAsArenaTakesTheVirtualCalls()
    {
        // Arena's Allocate and frees test for Arena.Create()'s class and call any other policy's
        // arena through a virtual core: every entry point must still reach this arena.
        using var typed = new Arena<TestPolicy<NeverDecays>>();
        Arena arena = typed;

        void* block = arena.Allocate(64);
        arena.Free(block);
        Assert.True(arena.Allocate(64) == block, "Free through Arena put the block in this arena's thread cache");
        arena.FreeSized(block, 64);
        Assert.True(arena.TryAllocate(64) == block, "FreeSized through Arena put it back, TryAllocate took it");
        arena.Free(block);

        Assert.True(arena.TryAllocate(typed.MaxSize + 1) == null);
        Assert.Throws<ArgumentOutOfRangeException>(() => arena.Allocate(typed.MaxSize + 1));
        void* foreign = System.Runtime.InteropServices.NativeMemory.Alloc(64);
        try
        {
            var ex = Assert.Throws<InvalidOperationException>(() => arena.Free(foreign));
            Assert.Contains($"0x{(nuint)foreign:x}", ex.Message);
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.Free(foreign);
        }

        arena.Purge();
        arena.Validate();
        Assert.Equal(0, arena.GetStats().Allocated);
    }

    public interface IVariant
    {
        static abstract int GuardSmallEvery { get; }

        static abstract int CorruptMagicOfBin { get; }

        static abstract long DirtyDecayMs { get; }

        static abstract long MuzzyDecayMs { get; }

        static virtual bool DebugChecks => false;
    }

    public readonly struct SlabsGuarded : IVariant
    {
        public static int GuardSmallEvery => 1;

        public static int CorruptMagicOfBin => -1;

        public static long DirtyDecayMs => 10_000;

        public static long MuzzyDecayMs => 0;
    }

    public readonly struct WrongMagic : IVariant
    {
        public static int GuardSmallEvery => 0;

        public static int CorruptMagicOfBin => 5;

        public static long DirtyDecayMs => 10_000;

        public static long MuzzyDecayMs => 0;
    }

    public readonly struct NeverDecays : IVariant
    {
        public static int GuardSmallEvery => 0;

        public static int CorruptMagicOfBin => -1;

        public static long DirtyDecayMs => -1;

        public static long MuzzyDecayMs => -1;
    }

    public readonly struct Checked : IVariant
    {
        public static int GuardSmallEvery => 0;

        public static int CorruptMagicOfBin => -1;

        public static long DirtyDecayMs => 10_000;

        public static long MuzzyDecayMs => 0;

        public static bool DebugChecks => true;
    }

    /// <summary>jemalloc's defaults as literals, with the tables a generator would bake in.</summary>
    public readonly struct TestPolicy<TVariant> : IArenaPolicy where TVariant : struct, IVariant
    {
        private static readonly ulong[] s_classSizes = Enumerable.Range(0, SizeClasses.Default.Count).Select(i => SizeClasses.Default.IndexToSize(i)).ToArray();
        private static readonly byte[] s_lookup = Enumerable.Range(0, SizeClasses.Default.SizeToIndexTableLength).Select(i => SizeClasses.Default.SizeToIndexTableEntry(i)).ToArray();
        private static readonly ulong[] s_regions = Enumerable.Range(0, SizeClasses.Default.BinCount).Select(i => SizeClasses.Default.GetBin(i).RegionSize).ToArray();
        private static readonly uint[] s_magic = Enumerable.Range(0, SizeClasses.Default.BinCount)
            .Select(i => SizeClasses.Default.GetBin(i).Div.Magic + (i == TVariant.CorruptMagicOfBin ? 1u : 0u)).ToArray();

        public static bool IsRuntimeConfigured => false;

        public static bool Retain => true;

        public static int LgExtentMaxActiveFit => 6;

        public static int GuardSmallEvery => TVariant.GuardSmallEvery;

        public static int GuardLargeEvery => 0;

        public static double GuardMappingShare => 0.25;

        public static bool UsesDefaultHooks => true;

        public static long DirtyDecayMs => TVariant.DirtyDecayMs;

        public static long MuzzyDecayMs => TVariant.MuzzyDecayMs;

        public static long OversizeThreshold => 8 << 20;

        public static int LgQuantum => 4;

        public static int LgPage => 12;

        public static int LgGroup => 2;

        public static int LgTinyMin => 3;

        public static bool ThreadCache => true;

        public static bool DebugChecks => TVariant.DebugChecks;

        public static ReadOnlySpan<byte> SizeToIndexLookup => s_lookup;

        public static ReadOnlySpan<ulong> ClassSizes => s_classSizes;

        public static ReadOnlySpan<ulong> BinRegionSizes => s_regions;

        public static ReadOnlySpan<uint> BinDivMagic => s_magic;

        public static IExtentHooks? CreateHooks() => null;
    }
}
