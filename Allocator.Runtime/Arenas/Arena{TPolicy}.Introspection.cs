using System.Collections.Generic;
using System.Threading;
using Allocator.Extents;
using Allocator.Guards;
using Allocator.Metadata;
using Allocator.PageAllocators;
using Allocator.Threading;

namespace Allocator;

// Introspection: statistics, the consistency check and the address-space picture.
public sealed unsafe partial class Arena<TPolicy>
{
    /// <inheritdoc/>
    public override ArenaStats GetStats()
    {
        using ReadPin pin = Pin();
        var bins = new BinStats[_binCount];
        for (int i = 0; i < _binCount; i++) bins[i] = ClassStats(i);
        return new ArenaStats(_index, _pa.GetStats(), bins, _large.GetStats(i => (long)ClassSize(i)));
    }

    /// <summary>The shards each small class's bin has.</summary>
    internal int BinShards => _binShards;

    /// <summary>One shard's bin of class <paramref name="index"/>: its own counters, which <see cref="GetStats"/> sums.</summary>
    internal BinStats ShardBinStats(int index, int shard) => BinOf(index, shard).GetStats();

    // A class's counters: the sum over its shards' bins.
    private BinStats ClassStats(int index)
    {
        BinStats sum = BinOf(index, 0).GetStats();
        for (int s = 1; s < _binShards; s++)
        {
            BinStats b = BinOf(index, s).GetStats();
            sum = sum with
            {
                Allocations = sum.Allocations + b.Allocations,
                Deallocations = sum.Deallocations + b.Deallocations,
                CurrentRegions = sum.CurrentRegions + b.CurrentRegions,
                Slabs = sum.Slabs + b.Slabs,
                CurrentSlabs = sum.CurrentSlabs + b.CurrentSlabs,
                Fills = sum.Fills + b.Fills,
                Flushes = sum.Flushes + b.Flushes,
            };
        }

        return sum;
    }

    // A reader from another thread (a metrics listener walking every live arena) may meet Dispose:
    // readers pin the arena, and Dispose waits for the pins to go before it frees what they read.
    private ReadPin Pin()
    {
        Interlocked.Increment(ref _pins);
        if (_disposed)
        {
            Interlocked.Decrement(ref _pins);
            ThrowIfDisposed();
        }

        return new ReadPin(this);
    }

    private readonly ref struct ReadPin(Arena<TPolicy> arena)
    {
        public void Dispose() => Interlocked.Decrement(ref arena._pins);
    }

    private void WaitForReaders()
    {
        // Dispose stored _disposed before this load: a reader that pins later sees it and backs out.
        Interlocked.MemoryBarrier();
        var spin = new SpinWait();
        while (Volatile.Read(ref _pins) != 0) spin.SpinOnce();
    }

    /// <inheritdoc/>
    public override void Validate()
    {
        using ReadPin pin = Pin();
        // The finalizer of a dead thread flushes its cache under this lock: hold it, so such a flush
        // cannot change the arena between collecting its extents and checking them.
        using var quiet = ThreadCaches.ListLock.EnterScope();
        // And no background pass may move pages between states while they are counted.
        using var noPurge = BackgroundPurger.HoldOffPasses();
        var active = new List<nint>();
        foreach (Bin bin in _bins) bin.Validate(_index, active);
        _large.Validate(active);
        CollectSampled(active);
        // Each backend checks its own: the classic one's mapped figure counts only its extents.
        var classic = new List<nint>(active.Count);
        var hugePage = new List<nint>();
        foreach (nint e in active) (((Edata*)e)->IsHugePageAllocated ? hugePage : classic).Add(e);
        ExtentValidator.Validate(_pa.Context, classic.ToArray(), activeIsComplete: true);
        _pa.ValidateHugePages(hugePage.ToArray());
        ValidateGuardCharge(active);
    }

    // Every guard page in place is charged to the shard's guard budget exactly once.
    private void ValidateGuardCharge(List<nint> active)
    {
        ExtentContext ctx = _pa.Context;
        long guardPages = 0;
        foreach (nint e in active) guardPages += GuardPagesOf((Edata*)e, free: false);
        foreach (Ecache ecache in new[] { ctx.Dirty, ctx.Muzzy, ctx.Retained })
        {
            using (ecache.Enter())
            {
                for (Edata* e = ecache.GuardedEset.LruFirst; e != null; e = Eset.LruNext(e)) guardPages += GuardPagesOf(e, free: true);
            }
        }

        long charged = ctx.GuardBudget.GuardPages;
        if (charged != guardPages)
            throw InvariantBroken($"{guardPages} guard pages are in place but the guard budget is charged for {charged}");
    }

    // Slabs cut from the bump region have only the right guard. Free guarded extents are all such
    // slabs (guarded large extents are unguarded when freed); everything else has two.
    private int GuardPagesOf(Edata* e, bool free)
    {
        if (!e->IsGuarded) return 0;
        return SanBump.IsSupported(_pa.Context) && (e->IsSlab || free) ? 1 : 2;
    }

    /// <inheritdoc/>
    public override List<AddressSpaceRegion> GetAddressSpace()
    {
        using ReadPin pin = Pin();
        using var quiet = ThreadCaches.ListLock.EnterScope();
        var extents = new List<nint>();
        foreach (Bin bin in _bins) bin.CollectSlabs(extents);
        _large.Collect(extents);
        CollectSampled(extents);

        var regions = new List<AddressSpaceRegion>();
        foreach (nint e in extents) AddRegion(regions, (Edata*)e, AddressSpaceKind.Active);
        ExtentContext ctx = _pa.Context;
        foreach (Ecache ecache in new[] { ctx.Dirty, ctx.Muzzy, ctx.Retained })
        {
            AddressSpaceKind kind = ecache.State switch
            {
                ExtentState.Dirty => AddressSpaceKind.Dirty,
                ExtentState.Muzzy => AddressSpaceKind.Muzzy,
                _ => AddressSpaceKind.Retained,
            };
            using (ecache.Enter())
            {
                foreach (Eset set in new[] { ecache.Eset, ecache.GuardedEset })
                {
                    for (Edata* e = set.LruFirst; e != null; e = Eset.LruNext(e)) AddRegion(regions, e, kind);
                }
            }
        }

        return regions;
    }

    private void AddRegion(List<AddressSpaceRegion> regions, Edata* e, AddressSpaceKind kind)
    {
        regions.Add(new AddressSpaceRegion((nuint)e->Address, e->Size, kind));
        int guardPages = GuardPagesOf(e, free: kind != AddressSpaceKind.Active);
        if (guardPages == 0) return;
        regions.Add(new AddressSpaceRegion((nuint)e->Past, _page, AddressSpaceKind.Guard));
        if (guardPages == 2) regions.Add(new AddressSpaceRegion((nuint)e->Address - _page, _page, AddressSpaceKind.Guard));
    }
}
