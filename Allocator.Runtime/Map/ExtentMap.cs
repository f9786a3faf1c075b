using System;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;
using Allocator.Metadata;
using Allocator.Os;

namespace Allocator.Map;

/// <summary>
/// Address to extent metadata (jemalloc's emap), on top of an <see cref="Rtree"/>. Registers the
/// boundary pages of every extent (and the interior pages of active slabs), keeps the state bits
/// of the leaf words equal to <see cref="Edata.State"/>, and claims neighbors for merging.
/// </summary>
/// <remarks>
/// Lookups by address are read-only: they return what the map says and never claim anything.
/// The only way to take hold of an extent that is not yours is
/// <see cref="TryAcquireNeighbor"/>, which starts from an extent you already hold. No lock is keyed
/// by address: the state bits of the leaf word, read under the ecache lock of the expected state,
/// are the whole protocol.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Advanced)]
public sealed unsafe class ExtentMap : IDisposable
{
    private static readonly Lazy<ExtentMap> s_shared = new(() => new ExtentMap(), LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly Rtree _tree;
    private readonly nuint _page = Pages.PageSize;

    /// <summary>Creates a map with a private tree (tests); arenas share <see cref="Shared"/>.</summary>
    public ExtentMap() => _tree = new Rtree();

    /// <summary>The process-wide map every arena registers its extents in.</summary>
    public static ExtentMap Shared => s_shared.Value;

    /// <summary>The tree behind the map.</summary>
    public Rtree Tree => _tree;

    /// <summary>Elements prepared for a split; filled by <see cref="PrepareSplit"/>.</summary>
    public struct SplitPlan
    {
        internal ulong* LeadFirst, LeadLast, TrailFirst, TrailLast;
    }

    /// <summary>Elements prepared for a merge; filled by <see cref="PrepareMerge"/>.</summary>
    public struct MergePlan
    {
        internal ulong* LeadFirst, LeadLast, TrailFirst, TrailLast;
    }

    /// <summary>
    /// Maps the first and last page of an active extent; false when metadata memory ran out (nothing
    /// is then written).
    /// </summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public bool RegisterBoundary(Edata* edata, int sizeIndex, bool slab)
    {
        Debug.Assert(edata->State == ExtentState.Active);
        ulong* first = _tree.Element(edata->Base, initMissing: true);
        ulong* last = first == null ? null : _tree.Element(LastPage(edata), initMissing: true);
        if (last == null) return false;
        Debug.Assert(*first == RtreeContents.EmptyWord && *last == RtreeContents.EmptyWord, "boundary already mapped");
        ulong word = Word(edata, sizeIndex, slab);
        Volatile.Write(ref *first, word);
        Volatile.Write(ref *last, word);
        return true;
    }

    /// <summary>Forgets the first and last page of an extent.</summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public void DeregisterBoundary(Edata* edata)
    {
        _tree.Clear(edata->Base);
        _tree.Clear(LastPage(edata));
    }

    /// <summary>
    /// Maps the interior pages of an active slab, so that freeing any region finds its slab. Cannot
    /// fail: the boundaries already created every leaf the slab touches.
    /// </summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public void RegisterInterior(Edata* edata, int sizeIndex)
    {
        Debug.Assert(edata->IsSlab);
        if (edata->Size <= 2 * _page) return;
        bool ok = _tree.WriteRange((byte*)edata->Base + _page, (byte*)LastPage(edata) - _page,
            new RtreeContents(edata, sizeIndex, true, false, ExtentState.Active));
        Debug.Assert(ok);
    }

    /// <summary>Forgets the interior pages of a slab.</summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public void DeregisterInterior(Edata* edata)
    {
        if (edata->Size <= 2 * _page) return;
        _tree.ClearRange((byte*)edata->Base + _page, (byte*)LastPage(edata) - _page);
    }

    /// <summary>Rewrites size index and slab bit at both boundaries of an extent the caller holds.</summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public void Remap(Edata* edata, int sizeIndex, bool slab)
    {
        edata->SizeIndex = sizeIndex;
        edata->IsSlab = slab;
        ulong word = Word(edata, sizeIndex, slab);
        Volatile.Write(ref *_tree.Element(edata->Base, initMissing: false), word);
        if (edata->Size != _page) Volatile.Write(ref *_tree.Element(LastPage(edata), initMissing: false), word);
    }

    /// <summary>
    /// Sets the state in the edata and in its boundary words together. The caller holds the ecache
    /// lock of the old or the new state, or holds the extent in an acquired state.
    /// </summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public void UpdateState(Edata* edata, ExtentState state)
    {
        edata->State = state;
        ulong* first = _tree.Element(edata->Base, initMissing: false);
        Volatile.Write(ref *first, RtreeContents.WithState(Volatile.Read(ref *first), state));
        if (edata->Size != _page)
        {
            ulong* last = _tree.Element(LastPage(edata), initMissing: false);
            Volatile.Write(ref *last, RtreeContents.WithState(Volatile.Read(ref *last), state));
        }
    }

    /// <summary>
    /// Creates (if missing) the leaf elements a split of <paramref name="edata"/> at
    /// <paramref name="leadSize"/> will write; false when metadata memory ran out, with nothing changed.
    /// </summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public bool PrepareSplit(Edata* edata, nuint leadSize, out SplitPlan plan)
    {
        plan = default;
        byte* b = (byte*)edata->Base;
        plan.LeadFirst = _tree.Element(b, initMissing: true);
        plan.LeadLast = _tree.Element(b + leadSize - _page, initMissing: true);
        plan.TrailFirst = _tree.Element(b + leadSize, initMissing: true);
        plan.TrailLast = _tree.Element(b + edata->Size - _page, initMissing: true);
        return plan.LeadFirst != null && plan.LeadLast != null && plan.TrailFirst != null && plan.TrailLast != null;
    }

    /// <summary>Writes the boundaries of both halves of a split (size index none, not a slab).</summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public void CommitSplit(in SplitPlan plan, Edata* lead, Edata* trail)
    {
        ulong leadWord = Word(lead, Edata.NoSizeIndex, false), trailWord = Word(trail, Edata.NoSizeIndex, false);
        // Trail first: until the lead's last page is rewritten, lookups still resolve to the whole extent.
        Volatile.Write(ref *plan.TrailLast, trailWord);
        Volatile.Write(ref *plan.TrailFirst, trailWord);
        Volatile.Write(ref *plan.LeadLast, leadWord);
        Volatile.Write(ref *plan.LeadFirst, leadWord);
    }

    /// <summary>Looks up the boundary elements of two adjacent mapped extents about to merge.</summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public MergePlan PrepareMerge(Edata* lead, Edata* trail)
    {
        MergePlan plan = default;
        plan.LeadFirst = _tree.Element(lead->Base, initMissing: false);
        plan.LeadLast = _tree.Element(LastPage(lead), initMissing: false);
        plan.TrailFirst = _tree.Element(trail->Base, initMissing: false);
        plan.TrailLast = _tree.Element(LastPage(trail), initMissing: false);
        return plan;
    }

    /// <summary>
    /// Clears the inner boundary of a merge and maps the merged extent (the lead, already grown) at
    /// its outer boundary pages.
    /// </summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public void CommitMerge(in MergePlan plan, Edata* merged)
    {
        ulong word = Word(merged, Edata.NoSizeIndex, false);
        if (plan.LeadLast != plan.LeadFirst) Volatile.Write(ref *plan.LeadLast, RtreeContents.EmptyWord);
        if (plan.TrailFirst != plan.TrailLast) Volatile.Write(ref *plan.TrailFirst, RtreeContents.EmptyWord);
        Volatile.Write(ref *plan.TrailLast, word);
        Volatile.Write(ref *plan.LeadFirst, word);
    }

    /// <summary>
    /// What the map says about the page holding <paramref name="address"/>. Read-only: the result
    /// is not an acquired extent and must not be passed where one is required.
    /// </summary>
    [AddressLookup]
    public bool TryLookup(void* address, out RtreeContents contents) => _tree.TryRead(address, out contents);

    /// <summary>
    /// Claims the forward or backward neighbor of an extent the caller holds, in the exact order of
    /// jemalloc's emap_try_acquire_edata_neighbor: read the neighbor's leaf word; refuse an empty
    /// word (unmapped, or a guard page); refuse when the higher extent of the pair is a head; refuse
    /// unless the word says <paramref name="expected"/>; only then read the neighbor's edata and
    /// refuse a different commit state (unless expanding), page allocator or arena, and a guarded
    /// neighbor; then move it to <see cref="ExtentState.Merging"/>.
    /// </summary>
    /// <remarks>The caller holds the ecache lock of <paramref name="expected"/>.</remarks>
    /// <returns>The neighbor, now in <see cref="ExtentState.Merging"/>, or null.</returns>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public Edata* TryAcquireNeighbor([AcquiredExtent] Edata* edata, ExtentState expected, bool forward, bool expanding)
    {
        Debug.Assert(!edata->IsGuarded);
        Debug.Assert(expected is ExtentState.Dirty or ExtentState.Muzzy or ExtentState.Retained);
        byte* neighborAddress = forward ? (byte*)edata->Past : (byte*)edata->Base - _page;
        // Forward past the top of the address space wraps to 0; backward from the first page has nothing below.
        if (neighborAddress == null || (!forward && (nuint)edata->Base < _page)) return null;

        ulong* element = _tree.Element(neighborAddress, initMissing: false);
        if (element == null) return null;
        RtreeContents c = RtreeContents.Decode(Volatile.Read(ref *element));
        if (c.Edata == null) return null;
        if (forward ? c.IsHead : edata->IsHead) return null;
        if (c.State != expected) return null;

        // The state matched under the lock of that state, so the neighbor cannot change under us now.
        Edata* neighbor = c.Edata;
        if (!expanding && neighbor->IsCommitted != edata->IsCommitted) return null;
        if (neighbor->IsHugePageAllocated != edata->IsHugePageAllocated) return null;
        if (neighbor->ArenaIndex != edata->ArenaIndex) return null;
        // Normally a guard page (an empty leaf) separates a guarded extent from everything else, but
        // not when mprotect refused the guard of the piece cut just below a bump-allocated slab: that
        // piece is an ordinary extent right next to the guarded one, which lives in a guarded set.
        if (neighbor->IsGuarded) return null;
        Debug.Assert(forward ? neighbor->Base == edata->Past : neighbor->Past == edata->Base);

        UpdateState(neighbor, ExtentState.Merging);
        return neighbor;
    }

    /// <summary>Puts an acquired extent into <paramref name="state"/>.</summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public void Release([AcquiredExtent] Edata* edata, ExtentState state)
    {
        Debug.Assert(edata->State is ExtentState.Active or >= ExtentState.Transition);
        UpdateState(edata, state);
    }

    /// <summary>True when both boundary words of <paramref name="edata"/> point at it with its state and head bit.</summary>
    public bool IsMapped(Edata* edata)
    {
        if (!_tree.TryRead(edata->Base, out var first) || !_tree.TryRead(LastPage(edata), out var last)) return false;
        return first.Edata == edata && last.Edata == edata && first.State == edata->State && last.State == edata->State &&
            first.IsHead == edata->IsHead && last.IsHead == edata->IsHead;
    }

    private void* LastPage(Edata* edata) => (byte*)edata->Base + edata->Size - _page;

    private static ulong Word(Edata* edata, int sizeIndex, bool slab) =>
        RtreeContents.Encode(new RtreeContents(edata, sizeIndex, slab, edata->IsHead, edata->State));

    /// <summary>Releases the private tree.</summary>
    public void Dispose()
    {
        if (!s_shared.IsValueCreated || !ReferenceEquals(this, s_shared.Value)) _tree.Dispose();
    }
}
