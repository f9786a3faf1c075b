using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Allocator.Metadata;
using Allocator.Profiling;

namespace Allocator;

// Heap profiling: the out-of-line path of a sampled allocation, freeing a sampled block, the profile
// and the leak report. The fast paths only count bytes down and call here when the count runs out.
public sealed unsafe partial class Arena<TPolicy>
{
    // Null when the arena does not profile.
    private readonly HeapProfiler? _profiler;
    private readonly bool _leakReport;

    // The mean bytes between samples (1 with leak reports), 0 when off; read on the slow paths and,
    // for a runtime policy, by the fast paths' test.
    private readonly long _profileInterval;

    // A generated policy's constant decides, so without profiling the JIT drops the fast paths' test.
    private bool Profiled
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => TPolicy.IsRuntimeConfigured ? _profileInterval != 0 : TPolicy.ProfileSampleBytes != 0;
    }

    // Allocate and TryAllocate when profiling. The countdown is in the thread's cache block, so the
    // hit reaches it, the bins and nothing else through its one thread-local access; a thread whose
    // last-used cache is another arena's (or that has none) counts on the slow path.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void* AllocateProfiled(nuint size, bool throwOnFailure)
    {
        if ((TPolicy.IsRuntimeConfigured || TPolicy.ThreadCache) && ThreadCaches.LastKey == _key)
        {
            ThreadCache* tc = ThreadCaches.Last;
            if ((tc->BytesUntilSample -= (long)size) < 0) return AllocateSampled(tc, size, zero: false, throwOnFailure);
            void* p = size <= _allocFastMax ? tc->Bins[SmallIndex(size)].Pop() : PopAboveLookup(size, _key, tc);
            return p != null ? p : AllocateSlow(size, zero: false, throwOnFailure);
        }

        return AllocateProfiledSlow(size, zero: false, throwOnFailure);
    }

    // A profiled allocation that the inlined hit did not count: find the thread's countdown for this
    // arena (its cache block's, or the thread's own without one) and count there.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void* AllocateProfiledSlow(nuint size, bool zero, bool throwOnFailure)
    {
        ThreadCache* tc = UseThreadCache ? ThreadCacheOrNull() : null;
        return CountDown(tc, size) ? AllocateSampled(tc, size, zero, throwOnFailure) : AllocateUnsampled(size, zero, throwOnFailure);
    }

    // Counts a block's bytes; true when the countdown ran out. Without a cache block the thread's own
    // countdown is shared with other arenas, which may have drawn it: an arena that samples every
    // block cannot wait for it.
    private bool CountDown(ThreadCache* tc, nuint size) =>
        tc != null ? (tc->BytesUntilSample -= (long)size) < 0 : ProfileSampler.Consume(size) || _profileInterval == 1;

    // After the countdown ran out: whether the block is a sample and what it weighs; draws the next.
    private bool Decide(ThreadCache* tc, nuint size, out double weight)
    {
        if (tc == null) return ProfileSampler.Decide(size, _profileInterval, out weight);
        ProfileSampler.Redraw(ref tc->BytesUntilSample, size, _profileInterval, out weight);
        return true;
    }

    /// <inheritdoc/>
    public override HeapProfile GetHeapProfile()
    {
        using ReadPin pin = Pin();
        return _profiler?.Snapshot(_index) ?? new HeapProfile(_index, 0, Array.Empty<HeapProfileSite>(), DateTimeOffset.UtcNow);
    }

    // The countdown (the cache block's, or the thread's own when tc is null) ran out: draw the next
    // one, and if this block is a sample allocate it so that its edata can carry the record. A small block is promoted to a page-backed extent of its own, which
    // the rtree files as non-slab with the block's small class: Free then finds the record through the
    // large path, and the slab paths never see a sampled block.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void* AllocateSampled(ThreadCache* tc, nuint size, bool zero, bool throwOnFailure)
    {
        if (!Decide(tc, size, out double weight) || _profiler == null || size > _largeMax)
            return AllocateUnsampled(size, zero, throwOnFailure);

        ThrowIfDisposed();
        int index = size <= _lookupMax ? SmallIndex(size) : IndexAboveLookup(size);
        Edata* e;
        if (index < _binCount)
        {
            e = _pa.Alloc(_page, _page, slab: false, index, zero);
            if (e == null) return throwOnFailure ? throw OutOfMemory(size) : null;
        }
        else
        {
            void* p = AllocateUnsampled(size, zero, throwOnFailure);
            if (p == null) return null;
            e = LookupUnchecked(p);
        }

        _profiler.Record(e, ClassSize(index), weight, promoted: index < _binCount);
        return e->Address;
    }

    // An aligned large block, already allocated: count its bytes, and record it if they ran the
    // countdown out.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void* SampleAligned(void* p, nuint usable, int index)
    {
        ThreadCache* tc = UseThreadCache ? ThreadCacheOrNull() : null;
        if (CountDown(tc, usable) && Decide(tc, usable, out double weight) && _profiler != null)
            _profiler.Record(LookupUnchecked(p), ClassSize(index), weight, promoted: false);
        return p;
    }

    private void* AllocateUnsampled(nuint size, bool zero, bool throwOnFailure)
    {
        if (zero) return AllocateSlow(size, zero: true, throwOnFailure);
        void* p = PopCached(size, ThreadCaches.LastKey);
        return p != null ? p : AllocateSlow(size, zero: false, throwOnFailure);
    }

    // Free of a sampled block, from any thread: the record goes first, then the block. A promoted
    // block's page goes straight back to the page allocator (it was never a slab region or in a cache).
    private void FreeSampled(Edata* e, int index)
    {
        bool promoted = index < _binCount;
        _profiler!.Forget(e, promoted);
        if (promoted) _pa.Free(e);
        else FreeLarge(e, index);
    }

    // Reset and dispose: every promoted block is freed with the rest, and no sample outlives them.
    private void ReleaseSampled(List<nint> extents) => _profiler?.ReleaseAll(extents);

    private void CollectSampled(List<nint> extents) => _profiler?.Collect(extents);

    // Dispose with leak reports on: every block is a sample, so the live sites are the leaks.
    private void ReportLeaks()
    {
        if (!_leakReport || _profiler == null) return;
        HeapProfile profile = _profiler.Snapshot(_index);
        if (profile.LiveCount == 0) return;
        OnLeaksFound(new LeakReport(profile));
    }

    private static long ProfileIntervalOf(ArenaOptions options) => options.LeakReport ? 1 : options.ProfileSampleBytes;
}
