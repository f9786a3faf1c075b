using System;
using System.Collections.Generic;
using System.ComponentModel;
using Allocator.Map;
using Allocator.Metadata;

namespace Allocator.Extents;

/// <summary>
/// Walks a page allocator shard and throws on the first broken invariant: leaf words equal to
/// edata fields, every cache member in its cache's state and set, nothing left in
/// <see cref="ExtentState.Merging"/>, no overlapping extents, set statistics equal to a recount,
/// and (given every active extent) the mapped figure equal to a recount.
/// </summary>
/// <remarks>Meaningful only while no other thread uses the shard.</remarks>
[EditorBrowsable(EditorBrowsableState.Advanced)]
internal static unsafe class ExtentValidator
{
    /// <summary>Checks the shard.</summary>
    /// <param name="ctx">The shard.</param>
    /// <param name="active">Active extents the caller holds (their edata pointers).</param>
    /// <param name="activeIsComplete">True when <paramref name="active"/> lists every active extent, so totals can be recounted.</param>
    /// <param name="scanMap">Also walk every leaf of the map: every registered page must belong to a known extent
    /// (use only with a map no other shard writes to).</param>
    /// <exception cref="InvalidOperationException">An invariant is broken; the message says which and where.</exception>
    public static void Validate(ExtentContext ctx, ReadOnlySpan<nint> active = default, bool activeIsComplete = false, bool scanMap = false)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        var known = new Dictionary<nint, ExtentState>();
        var ranges = new List<(nuint Start, nuint End, nint Edata)>();
        nuint activeBytes = 0, dirtyBytes = 0, muzzyBytes = 0;

        foreach (nint handle in active)
        {
            var e = (Edata*)handle;
            Require(e->State == ExtentState.Active, e, "an extent the caller holds is not active");
            CheckExtent(ctx, e, e->SizeIndex, e->IsSlab);
            Add(known, ranges, e);
            activeBytes += e->Size;
        }

        foreach (Ecache ecache in new[] { ctx.Dirty, ctx.Muzzy, ctx.Retained })
        {
            using var scope = ecache.Enter();
            nuint bytes = CheckSet(ctx, ecache, ecache.Eset, guarded: false, known, ranges) +
                CheckSet(ctx, ecache, ecache.GuardedEset, guarded: true, known, ranges);
            if (ecache.State == ExtentState.Dirty) dirtyBytes = bytes;
            else if (ecache.State == ExtentState.Muzzy) muzzyBytes = bytes;
        }

        ranges.Sort((a, b) => a.Start.CompareTo(b.Start));
        for (int i = 1; i < ranges.Count; i++)
        {
            if (ranges[i].Start < ranges[i - 1].End)
                Fail((Edata*)ranges[i].Edata, $"overlaps the extent at 0x{ranges[i - 1].Start:x}");
        }

        if (activeIsComplete)
        {
            long expected = (long)(activeBytes + dirtyBytes + muzzyBytes);
            if (ctx.Stats.PaMapped != expected)
                throw new InvalidOperationException($"Extent invariant broken: PaMapped is {ctx.Stats.PaMapped} but active + dirty + muzzy = {expected}.");
        }

        if (scanMap) ScanMap(ctx, known);
    }

    private static nuint CheckSet(ExtentContext ctx, Ecache ecache, Eset set, bool guarded, Dictionary<nint, ExtentState> known,
        List<(nuint, nuint, nint)> ranges)
    {
        long count = 0;
        nuint pages = 0, bytes = 0;
        var binCounts = new long[set.BinCount];
        var binBytes = new long[set.BinCount];
        for (Edata* e = set.LruFirst; e != null; e = Eset.LruNext(e))
        {
            Require(e->State == ecache.State, e, $"is in the {ecache.State} cache but its state is {e->State}");
            Require(e->IsGuarded == guarded, e, guarded ? "is unguarded in a guarded set" : "is guarded in the ordinary set");
            Require(!known.ContainsKey((nint)e), e, "is in two places");
            CheckExtent(ctx, e, Edata.NoSizeIndex, false);
            Add(known, ranges, e);
            count++;
            pages += e->Size / ctx.Page;
            bytes += e->Size;
            int bin = ctx.PageClasses.PszToIndex(ctx.PageClasses.PszQuantizeFloor(e->Size, 0));
            binCounts[bin]++;
            binBytes[bin] += (long)e->Size;
        }

        if (count != set.Count || pages != set.Npages)
            throw new InvalidOperationException($"Extent invariant broken: the {ecache.State} set counts {set.Count} extents / {set.Npages} pages but holds {count} / {pages}.");
        for (int i = 0; i < set.BinCount; i++)
        {
            if (set.BinStats(i) != (binCounts[i], binBytes[i]))
                throw new InvalidOperationException($"Extent invariant broken: bin {i} of the {ecache.State} set reports {set.BinStats(i)} but holds ({binCounts[i]}, {binBytes[i]}).");
        }

        return bytes;
    }

    private static void CheckExtent(ExtentContext ctx, Edata* e, int sizeIndex, bool slab)
    {
        Require(e->State != ExtentState.Merging && e->State < ExtentState.Transition, e, "is left in transition");
        Require(e->ArenaIndex == ctx.ArenaIndex, e, $"belongs to arena {e->ArenaIndex}, not {ctx.ArenaIndex}");
        Require(e->Size != 0 && e->Size % ctx.Page == 0 && (nuint)e->Base % ctx.Page == 0, e, "is not page-aligned and page-sized");
        Require(ctx.Map.IsMapped(e), e, "does not match its boundary leaf words (pointer, state or head bit)");
        ctx.Map.TryLookup(e->Base, out RtreeContents first);
        Require(first.SizeIndex == sizeIndex && first.IsSlab == slab, e, $"has leaf size index {first.SizeIndex}/slab {first.IsSlab}, expected {sizeIndex}/{slab}");
    }

    private static void ScanMap(ExtentContext ctx, Dictionary<nint, ExtentState> known)
    {
        ctx.Map.Tree.ForEachMapped((page, word) =>
        {
            RtreeContents c = RtreeContents.Decode(word);
            if (!known.TryGetValue((nint)c.Edata, out ExtentState state))
                throw new InvalidOperationException($"Extent invariant broken: page 0x{page:x} maps edata 0x{(nint)c.Edata:x}, which is neither held nor cached (lost or left merging).");
            if (c.State != state)
                throw new InvalidOperationException($"Extent invariant broken: page 0x{page:x} says {c.State} but its extent is {state}.");
            nuint start = (nuint)c.Edata->Base, end = start + c.Edata->Size;
            if (page < start || page >= end)
                throw new InvalidOperationException($"Extent invariant broken: page 0x{page:x} maps an extent [0x{start:x}, 0x{end:x}) that does not contain it.");
            bool boundary = page == start || page == end - ctx.Page;
            if (!boundary && !(c.IsSlab && state == ExtentState.Active))
                throw new InvalidOperationException($"Extent invariant broken: interior page 0x{page:x} is mapped but its extent is not an active slab.");
        });
    }

    private static void Add(Dictionary<nint, ExtentState> known, List<(nuint, nuint, nint)> ranges, Edata* e)
    {
        known[(nint)e] = e->State;
        ranges.Add(((nuint)e->Base, (nuint)e->Base + e->Size, (nint)e));
    }

    private static void Require(bool condition, Edata* e, string what)
    {
        if (!condition) Fail(e, what);
    }

    private static void Fail(Edata* e, string what) =>
        throw new InvalidOperationException($"Extent invariant broken: the extent at 0x{(nuint)e->Base:x} ({e->Size} bytes, {e->State}) {what}.");
}
