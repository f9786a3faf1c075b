using System;
using System.Collections.Generic;
using Allocator.Extents;
using Allocator.Hooks;
using Allocator.Metadata;
using Allocator.Os;
using Allocator.Tests.Infrastructure;

namespace Allocator.Tests.Extents;

/// <summary>DESIGN.md invariants 3 and 5.</summary>
public sealed unsafe class HeadAndLastResortTests
{
    private static readonly nuint Page = Shard.Page;

    /// <summary>
    /// Hands out consecutive chunks of one reserved region, so every new mapping is adjacent to the
    /// previous one and a merge across a mapping start would be possible were the head bits ignored.
    /// Merge throws when its second range starts a mapping.
    /// </summary>
    private sealed class AdjacentMappingHooks : IExtentHooks, IDisposable
    {
        private const nuint RegionSize = (nuint)1 << 30;
        private readonly byte* _region;
        private readonly HashSet<nuint> _starts = new();
        private nuint _used;

        public AdjacentMappingHooks()
        {
            _region = (byte*)Pages.Map(null, RegionSize, 2 << 20, commit: true);
            Assert.True(_region != null);
        }

        public int Merges { get; private set; }

        public int Mappings => _starts.Count;

        public void* Alloc(void* newAddress, nuint size, nuint alignment, ref bool zero, ref bool commit, uint arenaIndex)
        {
            lock (_starts)
            {
                nuint at = (_used + alignment - 1) & ~(alignment - 1);
                if (newAddress != null && newAddress != _region + at) return null;
                if (at + size > RegionSize) return null;
                _used = at + size;
                _starts.Add((nuint)(_region + at));
                zero = true;
                commit = true;
                return _region + at;
            }
        }

        public bool Dalloc(void* address, nuint size, bool committed, uint arenaIndex) => false;

        public void Destroy(void* address, nuint size, bool committed, uint arenaIndex) => Pages.PurgeForced(address, size);

        public bool Commit(void* address, nuint size, nuint offset, nuint length, uint arenaIndex) => true;

        public bool Decommit(void* address, nuint size, nuint offset, nuint length, uint arenaIndex) => false;

        public bool PurgeLazy(void* address, nuint size, nuint offset, nuint length, uint arenaIndex) => Pages.PurgeLazy((byte*)address + offset, length);

        public bool PurgeForced(void* address, nuint size, nuint offset, nuint length, uint arenaIndex) => Pages.PurgeForced((byte*)address + offset, length);

        public bool Split(void* address, nuint size, nuint sizeA, nuint sizeB, bool committed, uint arenaIndex) => true;

        public bool Merge(void* addressA, nuint sizeA, void* addressB, nuint sizeB, bool committed, uint arenaIndex)
        {
            lock (_starts)
            {
                if (_starts.Contains((nuint)addressB))
                    throw new InvalidOperationException($"merge hook called across the start of the mapping at 0x{(nuint)addressB:x}");
                Merges++;
                return true;
            }
        }

        public void Dispose() => Pages.Unmap(_region, RegionSize);
    }

    [Fact]
    public void Invariant3_TheMergeHookIsNeverCalledAcrossAHead()
    {
        using var hooks = new AdjacentMappingHooks();
        using var shard = new Shard(hooks, retain: true, dirtyDecayMs: -1);
        // Small mappings make many of them, so many mapping starts sit right after another mapping.
        shard.Context.Grow.Limit = 4 << 20;
        var rng = new Random(3);
        var held = new List<nint>();
        for (int round = 0; round < 3000; round++)
        {
            int r = rng.Next(10);
            if (r < 5 || held.Count == 0)
            {
                // Large requests force several mappings, each adjacent to the one before.
                nuint pages = (nuint)(rng.Next(4) == 0 ? rng.Next(100, 700) : rng.Next(1, 40));
                Edata* e = shard.Alloc(pages);
                Assert.True(e != null);
                held.Add((nint)e);
            }
            else if (r < 8)
            {
                int k = rng.Next(held.Count);
                shard.Free((Edata*)held[k]);
                held.RemoveAt(k);
            }
            else if (r < 9)
            {
                var e = (Edata*)held[rng.Next(held.Count)];
                shard.Pac.Expand(e, e->Size, e->Size + (nuint)rng.Next(1, 64) * Page, zero: false);
            }
            else
            {
                shard.Pac.PurgeAll();
            }
        }

        foreach (nint e in held) shard.Free((Edata*)e);
        shard.Pac.PurgeAll();
        shard.Validate();
        Assert.True(hooks.Mappings > 3, "the workload must span several adjacent mappings");
        Assert.True(hooks.Merges > 100, "the workload must merge a lot for the absence of violations to mean anything");
        // Everything is retained now: one extent per mapping, since nothing merges across a head.
        Assert.Equal(hooks.Mappings, (int)shard.Context.Retained.Eset.Count);
    }

    [Fact]
    public void Invariant5_WhenGrowingFailsTheAllocHookIsTheLastResortAndItsExtentIsAHead()
    {
        var hooks = new TestExtentHooks(retain: true) { ThrowOnMergeAcrossMappingStart = true };
        using var shard = new Shard(hooks, retain: true, dirtyDecayMs: -1);
        // Growth needs to split the mapping it makes; refuse every split so growth fails.
        hooks.TrySplit = false;

        Edata* e = shard.Alloc(3);
        Assert.True(e != null);
        Assert.True(e->IsHead);
        Assert.Equal(3 * Page, e->Size);
        Assert.True(hooks.IsMappingStart(e->Base), "the extent is a mapping of its own from the alloc hook");
        // The failed growth kept its mapping as retained address space instead of abandoning it.
        Assert.Equal(0, shard.Context.Stats.Abandoned);
        Assert.True(shard.Context.Retained.Npages >= (2u << 20) / Page);

        // A second last-resort extent, freed and purged beside the first: neither merges with anything.
        Edata* f = shard.Alloc(3);
        Assert.True(f != null && f->IsHead);
        hooks.TrySplit = true;
        shard.Free(e);
        shard.Free(f);
        shard.Pac.PurgeAll();
        shard.Validate();
        Assert.Equal(0, hooks.MergesAcrossMappingStart);
        Assert.Empty(hooks.Anomalies);
        int threePage = 0;
        for (Edata* r = shard.Context.Retained.Eset.LruFirst; r != null; r = Eset.LruNext(r))
        {
            if (r->Size == 3 * Page && r->IsHead) threePage++;
        }

        Assert.Equal(2, threePage);
        shard.Destroy();
        Assert.Equal((nuint)0, hooks.MappedBytes);
    }
}
