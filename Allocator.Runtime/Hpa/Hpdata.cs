using System.Diagnostics;

namespace Allocator.Hpa;

/// <summary>
/// One pageslab (jemalloc's hpdata_t): a 2 MiB-aligned, 2 MiB range that is potentially one huge
/// page. Which pages are handed out (active) and which are resident (touched: active or dirty) live
/// only in its two bitmaps; the hugepage allocator has edatas for active allocations only. Native
/// memory from the shard's metadata; the links belong to the <see cref="Psset"/>.
/// </summary>
/// <remarks>
/// Every mutator keeps the invariants <see cref="CheckConsistent"/> names; a mutation of a slab that
/// sits in a psset happens between <see cref="Psset.UpdateBegin"/> and <see cref="Psset.UpdateEnd"/>.
/// </remarks>
internal unsafe struct Hpdata
{
    /// <summary>First byte, 2 MiB aligned.</summary>
    public byte* Address;

    /// <summary>Orders slabs oldest first; unique within a shard.</summary>
    public ulong Age;

    /// <summary>When the slab last became a hugify candidate (clock nanoseconds).</summary>
    public long TimeHugifyAllowedNs;

    /// <summary>The longest run of inactive pages.</summary>
    public int LongestFreeRange;

    /// <summary>Pages handed out.</summary>
    public int NActive;

    /// <summary>Pages resident: active or dirty.</summary>
    public int NTouched;

    /// <summary>Whether the allocator believes the kernel backs the slab with a huge page.</summary>
    public bool Huge;

    /// <summary>Policy: the slab may serve allocations (cleared during a purge).</summary>
    public bool AllocAllowed;

    /// <summary>Policy: the slab has dirty pages worth purging.</summary>
    public bool PurgeAllowed;

    /// <summary>Policy: the slab is a hugify candidate.</summary>
    public bool HugifyAllowed;

    /// <summary>A purge runs with the shard lock dropped.</summary>
    public bool MidPurge;

    /// <summary>A hugify runs with the shard lock dropped.</summary>
    public bool MidHugify;

    /// <summary>Between <see cref="Psset.UpdateBegin"/> and <see cref="Psset.UpdateEnd"/>.</summary>
    public bool Updating;

    /// <summary>In a psset.</summary>
    public bool InPsset;

    /// <summary>The psset's record: in an allocation container (a bin heap or the empty list).</summary>
    public bool InAllocContainer;

    /// <summary>The psset's record: on the hugify list.</summary>
    public bool InHugifyContainer;

    /// <summary>The psset's record: the bin (or <see cref="Psset.EmptyBin"/>) the slab is filed under, -1 none.</summary>
    internal int AllocBin;

    /// <summary>The psset's record: the purge list the slab is on, -1 none.</summary>
    internal int PurgeList;

    // Age heap links; an empty slab uses HeapNext/HeapPrev as its empty-list links instead.
    internal Hpdata* HeapChild, HeapNext, HeapPrev;
    internal Hpdata* PurgeLinkNext, PurgeLinkPrev;
    internal Hpdata* HugifyLinkNext, HugifyLinkPrev;

    /// <summary>One bit per page handed out.</summary>
    public fixed ulong ActivePages[HugePage.MaxPages / 64];

    /// <summary>One bit per resident page (active or dirty).</summary>
    public fixed ulong TouchedPages[HugePage.MaxPages / 64];

    /// <summary>Pages freed but still resident.</summary>
    public readonly int NDirty => NTouched - NActive;

    /// <summary>Pages never touched or purged.</summary>
    public readonly int NRetained => HugePage.Pages - NTouched;

    /// <summary>An operation runs with the shard lock dropped.</summary>
    public readonly bool ChangingState => MidPurge || MidHugify;

    /// <summary>No page is active.</summary>
    public readonly bool IsEmpty => NActive == 0;

    /// <summary>Every page is active.</summary>
    public readonly bool IsFull => NActive == HugePage.Pages;

    /// <summary>A fresh slab: nothing active or touched, alloc allowed, nothing else; huge slabs count every page touched.</summary>
    public static void Init(Hpdata* ps, void* address, ulong age, bool isHuge = false)
    {
        Debug.Assert(((nuint)address & (HugePage.Size - 1)) == 0, "a pageslab must be 2 MiB aligned");
        *ps = default;
        ps->Address = (byte*)address;
        ps->Age = age;
        ps->AllocAllowed = true;
        ps->LongestFreeRange = HugePage.Pages;
        ps->AllocBin = -1;
        ps->PurgeList = -1;
        if (isHuge) Hugify(ps);
        AssertConsistent(ps);
    }

    /// <summary>
    /// Hands out the first run of inactive pages long enough for <paramref name="size"/> bytes (first
    /// fit inside the slab) and returns its address.
    /// </summary>
    public static void* Reserve(Hpdata* ps, nuint size)
    {
        int npages = (int)(size / Os.Pages.PageSize);
        int n = HugePage.Pages;
        Debug.Assert(!ps->InPsset || ps->Updating);
        Debug.Assert(ps->AllocAllowed && size % Os.Pages.PageSize == 0 && npages > 0 && npages <= ps->LongestFreeRange);
        ulong* active = ps->ActivePages;

        // First fit, remembering the largest run passed over.
        int begin = -1, runLength = 0, passedOver = 0, at = 0;
        while (true)
        {
            int runBegin = PageBitmap.FindFirst(active, n, at, set: false);
            Debug.Assert(runBegin < n, "the longest free range promised a fit");
            int runEnd = PageBitmap.FindFirst(active, n, runBegin, set: true);
            runLength = runEnd - runBegin;
            if (runLength >= npages)
            {
                begin = runBegin;
                break;
            }

            if (runLength > passedOver) passedOver = runLength;
            at = runEnd;
        }

        PageBitmap.SetRange(active, begin, npages);
        ps->NActive += npages;
        int newlyTouched = PageBitmap.CountUnset(ps->TouchedPages, begin, npages);
        PageBitmap.SetRange(ps->TouchedPages, begin, npages);
        ps->NTouched += newlyTouched;

        // Only taking from a longest run can shorten the longest; another run of that length keeps it.
        if (runLength == ps->LongestFreeRange)
        {
            int oldLongest = ps->LongestFreeRange, largest = passedOver;
            int i = PageBitmap.FindFirst(active, n, begin + npages, set: false);
            while (i < n)
            {
                int end = PageBitmap.FindFirst(active, n, i, set: true);
                if (end - i == oldLongest)
                {
                    largest = oldLongest;
                    break;
                }

                if (end - i > largest) largest = end - i;
                i = PageBitmap.FindFirst(active, n, end, set: false);
            }

            ps->LongestFreeRange = largest;
        }

        AssertConsistent(ps);
        return ps->Address + (nuint)begin * Os.Pages.PageSize;
    }

    /// <summary>Gives back pages <see cref="Reserve"/> handed out; they stay touched (dirty).</summary>
    public static void Unreserve(Hpdata* ps, void* address, nuint size)
    {
        Debug.Assert(!ps->InPsset || ps->Updating);
        int begin = (int)(((nuint)address - (nuint)ps->Address) / Os.Pages.PageSize);
        int npages = (int)(size / Os.Pages.PageSize);
        Debug.Assert(begin >= 0 && npages > 0 && begin + npages <= HugePage.Pages);
        ulong* active = ps->ActivePages;
        PageBitmap.ClearRange(active, begin, npages);
        int runBegin = PageBitmap.FindLastSet(active, begin - 1) + 1;
        int runEnd = PageBitmap.FindFirst(active, HugePage.Pages, begin + npages - 1, set: true);
        if (runEnd - runBegin > ps->LongestFreeRange) ps->LongestFreeRange = runEnd - runBegin;
        ps->NActive -= npages;
        AssertConsistent(ps);
    }

    /// <summary>
    /// Starts a purge: marks, for each run of dirty pages, the range from its first dirty page to the
    /// last dirty page before the next active one, so that retained gaps between dirty runs are purged
    /// with them (one larger madvise costs less than several). Allocation must be disallowed, frees may
    /// continue until <see cref="PurgeEnd"/>. Returns the dirty pages.
    /// </summary>
    public static int PurgeBegin(Hpdata* ps, HpdataPurgeState* state)
    {
        Debug.Assert(!ps->AllocAllowed, "a purge needs allocation disallowed");
        *state = default;
        int n = HugePage.Pages;
        ulong* dirty = stackalloc ulong[HugePage.MaxPages / 64];
        for (int w = 0; w < n >> 6; w++) dirty[w] = ps->TouchedPages[w] & ~ps->ActivePages[w];

        int at = 0;
        while (at < n)
        {
            int firstDirty = PageBitmap.FindFirst(dirty, n, at, set: true);
            if (firstDirty == n) break;
            int nextActive = PageBitmap.FindFirst(ps->ActivePages, n, firstDirty, set: true);
            int lastDirty = PageBitmap.FindLastSet(dirty, nextActive - 1);
            PageBitmap.SetRange(state->ToPurge, firstDirty, lastDirty - firstDirty + 1);
            at = nextActive + 1;
        }

        state->NDirtyToPurge = ps->NDirty;
        Debug.Assert(state->NDirtyToPurge == PageBitmap.PopCount(dirty, n));
        return state->NDirtyToPurge;
    }

    /// <summary>The next marked range of a purge, in address order; false when there is none. Reads no counters.</summary>
    public static bool PurgeNext(Hpdata* ps, HpdataPurgeState* state, out void* address, out nuint size)
    {
        int n = HugePage.Pages;
        int begin = PageBitmap.FindFirst(state->ToPurge, n, state->Next, set: true);
        if (begin == n)
        {
            address = null;
            size = 0;
            return false;
        }

        int end = PageBitmap.FindFirst(state->ToPurge, n, begin, set: false);
        state->Next = end;
        address = ps->Address + (nuint)begin * Os.Pages.PageSize;
        size = (nuint)(end - begin) * Os.Pages.PageSize;
        return true;
    }

    /// <summary>Ends a purge: the purged pages are no longer touched; pages freed meanwhile stay dirty.</summary>
    public static void PurgeEnd(Hpdata* ps, HpdataPurgeState* state)
    {
        Debug.Assert(!ps->InPsset || ps->Updating);
        for (int w = 0; w < HugePage.Pages >> 6; w++) ps->TouchedPages[w] &= ~state->ToPurge[w];
        ps->NTouched -= state->NDirtyToPurge;
        AssertConsistent(ps);
    }

    /// <summary>Records a hugify: once the kernel maps a huge page, the whole slab is resident.</summary>
    public static void Hugify(Hpdata* ps)
    {
        ps->Huge = true;
        PageBitmap.SetRange(ps->TouchedPages, 0, HugePage.Pages);
        ps->NTouched = HugePage.Pages;
        AssertConsistent(ps);
    }

    /// <summary>Records a dehugify.</summary>
    public static void Dehugify(Hpdata* ps)
    {
        ps->Huge = false;
        AssertConsistent(ps);
    }

    /// <summary>
    /// Null when the slab's invariants hold, else which one broke: the cached longest free range and
    /// counts equal the bitmaps, ntouched ≥ nactive, a huge slab has every page touched, nothing is
    /// allowed while changing state, and hugify-allowed equals hugify-list membership.
    /// </summary>
    public static string? CheckConsistent(Hpdata* ps)
    {
        int n = HugePage.Pages;
        int longest = PageBitmap.LongestUnsetRun(ps->ActivePages, n);
        if (longest != ps->LongestFreeRange) return $"its longest free range is cached as {ps->LongestFreeRange} pages but the bitmap has {longest}";
        int active = PageBitmap.PopCount(ps->ActivePages, n);
        if (active != ps->NActive) return $"its active count is {ps->NActive} but the bitmap has {active}";
        int touched = PageBitmap.PopCount(ps->TouchedPages, n);
        if (touched != ps->NTouched) return $"its touched count is {ps->NTouched} but the bitmap has {touched}";
        if (ps->NTouched < ps->NActive) return $"it has {ps->NTouched} touched pages, fewer than its {ps->NActive} active ones";
        if (ps->Huge && ps->NTouched != n) return $"it is huge but only {ps->NTouched} of {n} pages count as touched";
        if (ps->ChangingState && (ps->PurgeAllowed || ps->HugifyAllowed)) return "it allows a purge or hugify while one is under way";
        if (ps->InPsset && !ps->Updating && ps->HugifyAllowed != ps->InHugifyContainer) return "its hugify eligibility differs from its hugify-list membership";
        return null;
    }

    [Conditional("DEBUG")]
    private static void AssertConsistent(Hpdata* ps) => Debug.Assert(CheckConsistent(ps) is null, CheckConsistent(ps));
}
