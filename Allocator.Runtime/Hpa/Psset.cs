using System.Diagnostics;
using System.Numerics;
using Allocator.Metadata;
using Allocator.Sizing;

namespace Allocator.Hpa;

/// <summary>
/// The set of a hugepage shard's pageslabs (jemalloc's psset): what the eset is to the classic page
/// allocator. Non-empty, non-full slabs sit in age-ordered heaps binned by the page-size class of
/// their longest free range; empty slabs on a LIFO list; full slabs in no container. Slabs with
/// dirty pages sit on 128 purge lists (empty ones last to be reused, first to be purged), hugify
/// candidates on a FIFO list. Not thread-safe: the shard lock protects it.
/// </summary>
/// <remarks>
/// Every change to a member slab goes between <see cref="UpdateBegin"/> and <see cref="UpdateEnd"/>,
/// so the statistics and the container memberships never drift from the slab.
/// </remarks>
internal sealed unsafe class Psset
{
    /// <summary>Bins by page-size class of the longest free range.</summary>
    public const int NPsizes = 64;

    /// <summary>Purge lists: two per class (non-huge after huge), the top two for empty slabs.</summary>
    public const int NPurgeLists = 2 * NPsizes;

    /// <summary>The <see cref="Hpdata.AllocBin"/> of a slab on the empty list.</summary>
    public const int EmptyBin = NPsizes;

    private readonly SizeClasses _classes;
    private readonly nuint _page = Os.Pages.PageSize;
    private readonly PairingHeap<Hpdata, HpdataByAge>[] _bins = new PairingHeap<Hpdata, HpdataByAge>[NPsizes];
    private ulong _binBitmap;
    private Hpdata* _empty;
    private readonly Hpdata*[] _purgeHead = new Hpdata*[NPurgeLists], _purgeTail = new Hpdata*[NPurgeLists];
    private readonly ulong[] _purgeBitmap = new ulong[NPurgeLists / 64];
    private Hpdata* _hugifyHead, _hugifyTail;

    // Statistics: [bin * 2 + huge] for non-full slabs, [huge] for full and empty ones.
    private readonly PssetBinStats[] _nonfull = new PssetBinStats[NPsizes * 2];
    private readonly PssetBinStats[] _full = new PssetBinStats[2], _emptyStats = new PssetBinStats[2];
    private PssetBinStats _merged;

    /// <summary>Creates an empty set binned by <paramref name="classes"/>' page-size classes.</summary>
    public Psset(SizeClasses classes) => _classes = classes;

    /// <summary>Pageslabs in the set.</summary>
    public long NPageslabs => _merged.NPageslabs;

    /// <summary>Active pages over all slabs (slabs being updated excluded).</summary>
    public long NActive => _merged.NActive;

    /// <summary>Dirty pages over all slabs (slabs being updated excluded).</summary>
    public long NDirty => _merged.NDirty;

    /// <summary>The sum over every bucket.</summary>
    public PssetBinStats Merged => _merged;

    /// <summary>The non-full slabs of <paramref name="bin"/>, huge or not.</summary>
    public PssetBinStats NonFull(int bin, bool huge) => _nonfull[bin * 2 + (huge ? 1 : 0)];

    /// <summary>The full slabs, huge or not.</summary>
    public PssetBinStats Full(bool huge) => _full[huge ? 1 : 0];

    /// <summary>The empty slabs, huge or not.</summary>
    public PssetBinStats Empty(bool huge) => _emptyStats[huge ? 1 : 0];

    /// <summary>Huge slabs over all buckets.</summary>
    public long NHugePageslabs
    {
        get
        {
            long n = _full[1].NPageslabs + _emptyStats[1].NPageslabs;
            for (int i = 0; i < NPsizes; i++) n += _nonfull[i * 2 + 1].NPageslabs;
            return n;
        }
    }

    /// <summary>The bin of a slab whose longest free range is <paramref name="pages"/> pages (also the bin a request of that many pages starts from, rounded down).</summary>
    public int BinOf(int pages) => _classes.PszToIndex(_classes.PszQuantizeFloor((ulong)pages * _page, 0));

    /// <summary>Adds a slab with every membership its policy bits ask for.</summary>
    public void Insert(Hpdata* ps)
    {
        Debug.Assert(!ps->InPsset);
        ps->InPsset = true;
        StatsAdd(ps, 1);
        if (ps->AllocAllowed) AllocInsert(ps);
        if (ps->PurgeAllowed) PurgeAppend(ps);
        if (ps->HugifyAllowed) HugifyAppend(ps);
    }

    /// <summary>Takes a slab out of every container and the statistics.</summary>
    public void Remove(Hpdata* ps)
    {
        Debug.Assert(ps->InPsset && !ps->Updating);
        StatsAdd(ps, -1);
        if (ps->InAllocContainer) AllocRemove(ps);
        if (ps->PurgeList >= 0) PurgeRemove(ps);
        if (ps->InHugifyContainer) HugifyRemove(ps);
        ps->InPsset = false;
    }

    /// <summary>
    /// Starts changing a member slab: its statistics leave the set, and it leaves its allocation
    /// container and purge list (the hugify list keeps its FIFO place).
    /// </summary>
    public void UpdateBegin(Hpdata* ps)
    {
        Debug.Assert(ps->InPsset && !ps->Updating);
        ps->Updating = true;
        StatsAdd(ps, -1);
        if (ps->InAllocContainer) AllocRemove(ps);
        if (ps->PurgeList >= 0) PurgeRemove(ps);
    }

    /// <summary>
    /// Ends a change: the statistics come back under the slab's new bucket, it rejoins an allocation
    /// container if allowed and the end of a purge list if allowed (LRU order), and joins or leaves the
    /// hugify list as its eligibility says.
    /// </summary>
    public void UpdateEnd(Hpdata* ps)
    {
        Debug.Assert(ps->InPsset && ps->Updating);
        ps->Updating = false;
        StatsAdd(ps, 1);
        if (ps->AllocAllowed) AllocInsert(ps);
        if (ps->PurgeAllowed) PurgeAppend(ps);
        if (ps->HugifyAllowed && !ps->InHugifyContainer) HugifyAppend(ps);
        else if (!ps->HugifyAllowed && ps->InHugifyContainer) HugifyRemove(ps);
    }

    /// <summary>
    /// The slab a request of <paramref name="size"/> bytes should come from: the oldest of the lowest
    /// non-empty bin whose class is at least the request's (best fit by longest free range), else the
    /// most recently emptied slab, else null.
    /// </summary>
    public Hpdata* PickAlloc(nuint size)
    {
        int min = _classes.PszToIndex(_classes.PszQuantizeCeil(size, 0));
        ulong candidates = min >= 64 ? 0 : _binBitmap & (~0UL << min);
        if (candidates != 0) return _bins[BitOperations.TrailingZeroCount(candidates)].First;
        return _empty;
    }

    /// <summary>The slab to purge next: the least recently updated of the highest non-empty purge list, or null.</summary>
    public Hpdata* PickPurge()
    {
        for (int w = _purgeBitmap.Length - 1; w >= 0; w--)
        {
            if (_purgeBitmap[w] != 0) return _purgeHead[(w << 6) + 63 - BitOperations.LeadingZeroCount(_purgeBitmap[w])];
        }

        return null;
    }

    /// <summary>The oldest hugify candidate, or null.</summary>
    public Hpdata* PickHugify() => _hugifyHead;

    private void StatsAdd(Hpdata* ps, int sign)
    {
        int huge = ps->Huge ? 1 : 0;
        if (ps->IsEmpty) _emptyStats[huge].Add(ps, sign);
        else if (ps->IsFull) _full[huge].Add(ps, sign);
        else _nonfull[BinOf(ps->LongestFreeRange) * 2 + huge].Add(ps, sign);
        _merged.Add(ps, sign);
    }

    private void AllocInsert(Hpdata* ps)
    {
        Debug.Assert(!ps->InAllocContainer);
        if (ps->IsFull) return;
        ps->InAllocContainer = true;
        if (ps->IsEmpty)
        {
            ps->AllocBin = EmptyBin;
            ps->HeapPrev = null;
            ps->HeapNext = _empty;
            if (_empty != null) _empty->HeapPrev = ps;
            _empty = ps;
            return;
        }

        int bin = BinOf(ps->LongestFreeRange);
        ps->AllocBin = bin;
        _bins[bin].Insert(ps);
        _binBitmap |= 1UL << bin;
    }

    private void AllocRemove(Hpdata* ps)
    {
        int bin = ps->AllocBin;
        if (bin == EmptyBin)
        {
            if (ps->HeapPrev != null) ps->HeapPrev->HeapNext = ps->HeapNext;
            else _empty = ps->HeapNext;
            if (ps->HeapNext != null) ps->HeapNext->HeapPrev = ps->HeapPrev;
        }
        else
        {
            _bins[bin].Remove(ps);
            if (_bins[bin].IsEmpty) _binBitmap &= ~(1UL << bin);
        }

        ps->HeapNext = ps->HeapPrev = ps->HeapChild = null;
        ps->AllocBin = -1;
        ps->InAllocContainer = false;
    }

    private int PurgeListOf(Hpdata* ps)
    {
        // Empty slabs are purged first (entirely, in one call, and least likely to be reused), huge
        // ones before the rest since they are all dirty; among others, non-huge before huge.
        if (ps->IsEmpty) return ps->Huge ? NPurgeLists - 1 : NPurgeLists - 2;
        return 2 * BinOf(ps->NDirty) + (ps->Huge ? 0 : 1);
    }

    private void PurgeAppend(Hpdata* ps)
    {
        Debug.Assert(ps->PurgeList < 0 && ps->NDirty > 0);
        int list = PurgeListOf(ps);
        ps->PurgeList = list;
        ps->PurgeLinkNext = null;
        ps->PurgeLinkPrev = _purgeTail[list];
        if (_purgeTail[list] != null) _purgeTail[list]->PurgeLinkNext = ps;
        else _purgeHead[list] = ps;
        _purgeTail[list] = ps;
        _purgeBitmap[list >> 6] |= 1UL << (list & 63);
    }

    private void PurgeRemove(Hpdata* ps)
    {
        int list = ps->PurgeList;
        if (ps->PurgeLinkPrev != null) ps->PurgeLinkPrev->PurgeLinkNext = ps->PurgeLinkNext;
        else _purgeHead[list] = ps->PurgeLinkNext;
        if (ps->PurgeLinkNext != null) ps->PurgeLinkNext->PurgeLinkPrev = ps->PurgeLinkPrev;
        else _purgeTail[list] = ps->PurgeLinkPrev;
        if (_purgeHead[list] == null) _purgeBitmap[list >> 6] &= ~(1UL << (list & 63));
        ps->PurgeLinkNext = ps->PurgeLinkPrev = null;
        ps->PurgeList = -1;
    }

    private void HugifyAppend(Hpdata* ps)
    {
        ps->InHugifyContainer = true;
        ps->HugifyLinkNext = null;
        ps->HugifyLinkPrev = _hugifyTail;
        if (_hugifyTail != null) _hugifyTail->HugifyLinkNext = ps;
        else _hugifyHead = ps;
        _hugifyTail = ps;
    }

    private void HugifyRemove(Hpdata* ps)
    {
        if (ps->HugifyLinkPrev != null) ps->HugifyLinkPrev->HugifyLinkNext = ps->HugifyLinkNext;
        else _hugifyHead = ps->HugifyLinkNext;
        if (ps->HugifyLinkNext != null) ps->HugifyLinkNext->HugifyLinkPrev = ps->HugifyLinkPrev;
        else _hugifyTail = ps->HugifyLinkPrev;
        ps->HugifyLinkNext = ps->HugifyLinkPrev = null;
        ps->InHugifyContainer = false;
    }
}
