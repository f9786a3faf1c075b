using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Allocator.Extents;
using Allocator.Metadata;
using CsCheck;

namespace Allocator.Tests.Extents;

public sealed unsafe class ExtentOpsTests
{
    private static readonly nuint Page = Shard.Page;

    [Fact]
    public void ExpandTakesTheFreeForwardNeighborInPlace()
    {
        using var shard = new Shard();
        Edata* a = shard.Alloc(4);
        Edata* b = shard.Alloc(8);
        Assert.Equal((nuint)a->Past, (nuint)b->Base);
        void* where = a->Address;
        shard.Free(b);

        Assert.True(shard.Pac.Expand(a, 4 * Page, 10 * Page, zero: false));
        Assert.True(a->Address == where);
        Assert.Equal(10 * Page, a->Size);
        // The 2 pages the expansion did not need are back in the dirty cache.
        Assert.Equal(2u, (uint)shard.Context.Dirty.Npages);
        shard.Validate();
    }

    [Fact]
    public void ExpandRefusesAnActiveNeighborAndChangesNothing()
    {
        using var shard = new Shard();
        Edata* a = shard.Alloc(4);
        Edata* b = shard.Alloc(4);
        Assert.False(shard.Pac.Expand(a, 4 * Page, 6 * Page, zero: false));
        Assert.Equal(4 * Page, a->Size);
        Assert.Equal(ExtentState.Active, b->State);
        shard.Validate();
    }

    [Fact]
    public void ExpandWithZeroGivesZeroedTailEvenFromDirtyMemory()
    {
        using var shard = new Shard();
        Edata* a = shard.Alloc(1);
        Edata* b = shard.Alloc(1);
        new Span<byte>(b->Address, (int)Page).Fill(0xAB);
        shard.Free(b);
        Assert.True(shard.Pac.Expand(a, Page, 2 * Page, zero: true));
        Assert.True(new Span<byte>((byte*)a->Address + Page, (int)Page).IndexOfAnyExcept((byte)0) < 0);
        shard.Validate();
    }

    [Fact]
    public void ShrinkSplitsInPlaceAndCachesTheTail()
    {
        using var shard = new Shard();
        Edata* a = shard.Alloc(10);
        void* where = a->Address;
        Assert.True(shard.Pac.Shrink(a, 10 * Page, 3 * Page));
        Assert.True(a->Address == where);
        Assert.Equal(3 * Page, a->Size);
        Assert.Equal(7u, (uint)shard.Context.Dirty.Npages);
        shard.Validate();
    }

    [Fact]
    public void FreedLargeDirtyExtentsCoalesceAndSmallOnesWaitForEviction()
    {
        using var shard = new Shard(dirtyDecayMs: -1);
        Edata* small1 = shard.Alloc(1);
        Edata* small2 = shard.Alloc(1);
        Edata* large1 = shard.Alloc(8);
        Edata* large2 = shard.Alloc(8);
        Edata* guard = shard.Alloc(1);
        shard.Free(small1);
        shard.Free(small2);
        Assert.Equal(2, shard.Context.Dirty.Eset.Count);

        shard.Free(large1);
        shard.Free(large2);
        // large2 (>= 16 KiB) coalesced at once with large1, which had absorbed small2 (and small1) on its own free.
        Assert.Equal(1, shard.Context.Dirty.Eset.Count);
        Assert.Equal(18u, (uint)shard.Context.Dirty.Npages);
        shard.Validate();
        Assert.Equal(ExtentState.Active, guard->State);
    }

    [Fact]
    public void PurgeAllMovesEverythingToRetainedAndRecyclesIt()
    {
        using var shard = new Shard(retain: true);
        var held = Enumerable.Range(0, 20).Select(i => (nint)shard.Alloc((nuint)(1 + i % 5))).ToList();
        foreach (nint e in held) shard.Free((Edata*)e);
        nuint dirty = shard.Context.Dirty.Npages;
        Assert.True(dirty > 0);
        shard.Pac.PurgeAll();
        Assert.Equal(0u, (uint)shard.Context.Dirty.Npages);
        Assert.True(shard.Context.Retained.Npages >= dirty);
        Assert.Equal(0, shard.Context.Stats.PaMapped);
        shard.Validate();

        // Retained memory is reused (and zeroed, since it was force-purged) without a new mapping.
        // (The process-wide map counter would count other tests' mappings: watch this shard instead.)
        nuint retained = shard.Context.Retained.Npages;
        int growth = shard.Context.Grow.NextIndex;
        Edata* again = shard.Alloc(4);
        Assert.True(new Span<byte>(again->Address, (int)(4 * Page)).IndexOfAnyExcept((byte)0) < 0);
        Assert.Equal(retained - 4, shard.Context.Retained.Npages);
        Assert.Equal(growth, shard.Context.Grow.NextIndex);
        shard.Validate();
    }

    [Fact]
    public void BadRequestsThrowClearExceptionsAndChangeNothing()
    {
        using var shard = new Shard();
        var pac = shard.Pac;
        Assert.Contains("multiple of the page size", Assert.Throws<ArgumentOutOfRangeException>(() => { pac.Alloc(0, Page, false); }).Message);
        Assert.Contains("multiple of the page size", Assert.Throws<ArgumentOutOfRangeException>(() => { pac.Alloc(Page + 1, Page, false); }).Message);
        Assert.Contains("power of two", Assert.Throws<ArgumentOutOfRangeException>(() => { pac.Alloc(Page, 3 * Page, false); }).Message);
        Assert.Contains("power of two", Assert.Throws<ArgumentOutOfRangeException>(() => { pac.Alloc(Page, 0, false); }).Message);
        Assert.Contains("cannot exceed", Assert.Throws<ArgumentOutOfRangeException>(() => { pac.Alloc(nuint.MaxValue & ~(Page - 1), Page, false); }).Message);
        // A size that overflows once alignment is added fails cleanly instead of wrapping.
        Assert.True(pac.Alloc((nuint)shard.Context.PageClasses.LargeMaxClass, (nuint)1 << 62, false) == null);
        Assert.Equal(0, shard.Context.Stats.PaMapped);
        shard.Validate();
    }

    private enum Op { Alloc, Free, Expand, Shrink, Purge }

    [Fact]
    public void RandomProgramsAgreeWithAnIntervalModel()
    {
        var gen = Gen.Select(Gen.Enum<Op>(), Gen.Int[1, 40], Gen.Int[0, 4], Gen.Int[0, 1000]).Array[1, 60];
        gen.Sample(program =>
        {
            using var shard = new Shard(retain: true, dirtyDecayMs: -1);
            // The model: each held extent's [start, end) and the byte pattern written into it.
            var model = new List<(nint Edata, nuint Start, nuint Size, byte Tag)>();
            byte tag = 1;
            foreach (var (op, pages, alignPow, pick) in program)
            {
                switch (op)
                {
                    case Op.Alloc:
                    {
                        nuint alignment = Page << alignPow;
                        Edata* e = shard.Alloc((nuint)pages, alignment);
                        Assert.True(e != null);
                        Assert.Equal(0u, (uint)((nuint)e->Address % alignment));
                        Assert.Equal((nuint)pages * Page, e->Size);
                        Fill(e, tag);
                        model.Add(((nint)e, (nuint)e->Address, e->Size, tag++));
                        break;
                    }
                    case Op.Free when model.Count > 0:
                    {
                        var m = model[pick % model.Count];
                        Check(m);
                        shard.Free((Edata*)m.Edata);
                        model.Remove(m);
                        break;
                    }
                    case Op.Expand when model.Count > 0:
                    {
                        int i = pick % model.Count;
                        var m = model[i];
                        var e = (Edata*)m.Edata;
                        nuint newSize = m.Size + (nuint)pages * Page;
                        if (shard.Pac.Expand(e, m.Size, newSize, zero: true))
                        {
                            Assert.Equal(m.Start, (nuint)e->Address);
                            Assert.True(new Span<byte>((byte*)e->Address + m.Size, (int)(newSize - m.Size)).IndexOfAnyExcept((byte)0) < 0);
                            Fill(e, m.Tag);
                            model[i] = (m.Edata, m.Start, newSize, m.Tag);
                        }
                        else
                        {
                            Assert.Equal(m.Size, e->Size);
                        }

                        break;
                    }
                    case Op.Shrink when model.Count > 0:
                    {
                        int i = pick % model.Count;
                        var m = model[i];
                        nuint newSize = (nuint)Math.Max(1, (int)(m.Size / Page) - pages) * Page;
                        if (newSize < m.Size && shard.Pac.Shrink((Edata*)m.Edata, m.Size, newSize))
                            model[i] = (m.Edata, m.Start, newSize, m.Tag);
                        break;
                    }
                    case Op.Purge:
                        shard.Pac.PurgeAll();
                        break;
                }

                foreach (var m in model) Check(m);
                var sorted = model.OrderBy(m => m.Start).ToList();
                for (int k = 1; k < sorted.Count; k++) Assert.True(sorted[k - 1].Start + sorted[k - 1].Size <= sorted[k].Start, "held extents overlap");
                shard.Validate();
            }
        }, iter: 60);
    }

    [Fact]
    public void TwoThreadsHammeringOneShardNeitherDeadlockNorCorrupt()
    {
        using var shard = new Shard(retain: true, dirtyDecayMs: -1);
        const int Rounds = 4000;
        var held = new List<nint>[2] { new(), new() };
        var errors = new List<Exception>();
        var threads = Enumerable.Range(0, 2).Select(t => new Thread(() =>
        {
            try
            {
                var rng = new Random(t + 17);
                var mine = held[t];
                for (int i = 0; i < Rounds; i++)
                {
                    int r = rng.Next(10);
                    if (r < 5 || mine.Count == 0)
                    {
                        Edata* e = shard.Pac.Alloc((nuint)rng.Next(1, 24) * Page, Page, zero: false);
                        Assert.True(e != null);
                        *(int*)e->Address = t + 1;
                        mine.Add((nint)e);
                    }
                    else if (r < 8)
                    {
                        int k = rng.Next(mine.Count);
                        var e = (Edata*)mine[k];
                        Assert.Equal(t + 1, *(int*)e->Address);
                        shard.Pac.Free(e);
                        mine.RemoveAt(k);
                    }
                    else if (r < 9)
                    {
                        var e = (Edata*)mine[rng.Next(mine.Count)];
                        shard.Pac.Expand(e, e->Size, e->Size + Page, zero: false);
                    }
                    else
                    {
                        shard.Pac.PurgeAll();
                    }
                }
            }
            catch (Exception ex)
            {
                lock (errors) errors.Add(ex);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        Assert.True(threads.All(t => t.Join(TimeSpan.FromSeconds(60))), "a thread did not finish: deadlock");
        Assert.Empty(errors);
        shard.Active.AddRange(held[0]);
        shard.Active.AddRange(held[1]);
        shard.Validate();
    }

    private static void Fill(Edata* e, byte tag) => new Span<byte>(e->Address, (int)e->Size).Fill(tag);

    private static void Check((nint Edata, nuint Start, nuint Size, byte Tag) m)
    {
        var e = (Edata*)m.Edata;
        Assert.Equal(m.Size, e->Size);
        var bytes = new ReadOnlySpan<byte>((void*)m.Start, (int)m.Size);
        Assert.True(bytes.IndexOfAnyExcept(m.Tag) < 0, "a held extent's contents changed");
    }
}
