using System;
using System.ComponentModel;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Threading;
using Allocator.Metadata;
using Allocator.Os;
using Allocator.Sizing;

namespace Allocator.Extents;

/// <summary>
/// A set of free extents (jemalloc's eset): one bin per page-size class, each a heap ordered by
/// (serial number, address), a bitmap of the non-empty bins, and an LRU list of every member for
/// decay. Not thread-safe: its <see cref="Ecache"/>'s lock guards it.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Advanced)]
internal sealed unsafe class Eset
{
    private struct Bin
    {
        public PairingHeap<Edata, SerialThenAddress> Heap;
        public long Extents;
        public long Bytes;
    }

    private readonly SizeClasses _classes;
    private readonly nuint _page;
    private readonly int _binCount;
    private readonly Bin* _bins;
    private readonly ulong* _bitmap;
    private readonly int _bitmapWords;
    private EdataList<LruLinks> _lru;
    private nuint _npages;
    private long _count;

    /// <summary>Creates an empty set whose metadata comes from <paramref name="metadata"/>.</summary>
    public Eset(Base metadata, SizeClasses pageClasses, ExtentState state)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(pageClasses);
        _classes = pageClasses;
        _page = (nuint)pageClasses.PageSize;
        State = state;
        // One bin per page-size class plus a sentinel that ends every search.
        _binCount = pageClasses.PageSizeClassCount + 1;
        _bitmapWords = (_binCount + 63) / 64;
        _bins = (Bin*)metadata.Allocate((nuint)(sizeof(Bin) * _binCount), 64);
        _bitmap = (ulong*)metadata.Allocate((nuint)(sizeof(ulong) * _bitmapWords), 8);
        if (_bins == null || _bitmap == null) throw new OutOfMemoryException("No metadata memory for an extent set.");
    }

    /// <summary>The state every member is in.</summary>
    public ExtentState State { get; }

    /// <summary>Pages held by all members.</summary>
    public nuint Npages => Volatile.Read(ref _npages);

    /// <summary>Number of members.</summary>
    public long Count => Volatile.Read(ref _count);

    /// <summary>The least recently inserted member, the first one decay evicts.</summary>
    public Edata* LruFirst => _lru.First;

    /// <summary>Number of bins (page-size classes plus the sentinel).</summary>
    public int BinCount => _binCount;

    /// <summary>Members and bytes in one bin, readable without the lock (a racy but untorn snapshot).</summary>
    public (long Extents, long Bytes) BinStats(int bin) => (Volatile.Read(ref _bins[bin].Extents), Volatile.Read(ref _bins[bin].Bytes));

    /// <summary>The next member after <paramref name="e"/> in LRU order (for walks by the consistency checker).</summary>
    internal static Edata* LruNext(Edata* e) => EdataList<LruLinks>.Next(e);

    /// <summary>Adds a free extent.</summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public void Insert(Edata* e)
    {
        Debug.Assert(e->State == State);
        int bin = BinOf(e->Size);
        ref Bin b = ref _bins[bin];
        if (b.Heap.IsEmpty) _bitmap[bin >> 6] |= 1UL << (bin & 63);
        b.Heap.Insert(e);
        Volatile.Write(ref b.Extents, b.Extents + 1);
        Volatile.Write(ref b.Bytes, b.Bytes + (long)e->Size);

        _lru.Append(e);
        Volatile.Write(ref _npages, _npages + e->Size / _page);
        Volatile.Write(ref _count, _count + 1);
    }

    /// <summary>Removes a member (in this set's state, or claimed as a merging neighbor).</summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public void Remove(Edata* e)
    {
        Debug.Assert(e->State == State || e->State >= ExtentState.Transition);
        int bin = BinOf(e->Size);
        ref Bin b = ref _bins[bin];
        b.Heap.Remove(e);
        if (b.Heap.IsEmpty) _bitmap[bin >> 6] &= ~(1UL << (bin & 63));
        Volatile.Write(ref b.Extents, b.Extents - 1);
        Volatile.Write(ref b.Bytes, b.Bytes - (long)e->Size);

        _lru.Remove(e);
        Volatile.Write(ref _npages, _npages - e->Size / _page);
        Volatile.Write(ref _count, _count - 1);
    }

    /// <summary>
    /// Finds a member that can hold <paramref name="size"/> bytes at <paramref name="alignment"/>:
    /// first fit by (serial number, address) across the bins from the size's ceiling class, never
    /// looking at bins more than 2^<paramref name="lgMaxFit"/> times larger than needed.
    /// </summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public Edata* Fit(nuint size, nuint alignment, bool exactOnly, int lgMaxFit)
    {
        nuint alignPages = PageCeiling(alignment);
        nuint maxSize = size + alignPages - _page;
        if (maxSize < size || alignPages < alignment) return null;
        Edata* e = FirstFit(maxSize, exactOnly, lgMaxFit);
        if (e == null && alignment > _page) e = FitAlignment(size, maxSize, alignment);
        return e;
    }

    // PszToIndex gives the smallest page class that holds the size: the quantized ceiling's index.
    [MethodImpl(Tiering.OptimizeAtOnce)]
    private Edata* FirstFit(nuint size, bool exactOnly, int lgMaxFit)
    {
        int start = _classes.PszToIndex(size);
        if (exactOnly) return start < _binCount ? _bins[start].Heap.First : null;

        int shift = lgMaxFit >= 64 ? 63 : lgMaxFit;
        Edata* best = null;
        for (int i = NextNonEmpty(start); i < _binCount - 1; i = NextNonEmpty(i + 1))
        {
            if ((_classes.IndexToPsz(i) >> shift) > size) break;
            Edata* candidate = _bins[i].Heap.First;
            if (best == null || Edata.CompareSerialThenAddress(candidate, best) < 0) best = candidate;
        }

        return best;
    }

    // Only the first member of each bin is examined, as jemalloc does: cheap, and good enough for
    // the rare over-page alignment.
    [MethodImpl(Tiering.OptimizeAtOnce)]
    private Edata* FitAlignment(nuint minSize, nuint maxSize, nuint alignment)
    {
        int from = _classes.PszToIndex(minSize);
        int to = _classes.PszToIndex(maxSize);
        nuint align = PageCeiling(alignment);
        for (int i = NextNonEmpty(from); i < to; i = NextNonEmpty(i + 1))
        {
            Edata* e = _bins[i].Heap.First;
            nuint b = (nuint)e->Base;
            nuint aligned = (b + align - 1) & ~(align - 1);
            if (aligned >= b && aligned < b + e->Size && b + e->Size - aligned >= minSize) return e;
        }

        return null;
    }

    [MethodImpl(Tiering.OptimizeAtOnce)]
    private int NextNonEmpty(int from)
    {
        if (from >= _binCount) return _binCount;
        int word = from >> 6;
        ulong bits = _bitmap[word] & (~0UL << (from & 63));
        while (bits == 0)
        {
            if (++word >= _bitmapWords) return _binCount;
            bits = _bitmap[word];
        }

        return (word << 6) + BitOperations.TrailingZeroCount(bits);
    }

    // The largest page class not above the size: one index computation, where quantizing first took two.
    private int BinOf(nuint size) => _classes.PszToIndex((ulong)size + 1) - 1;

    private nuint PageCeiling(nuint n) => (n + _page - 1) & ~(_page - 1);
}
