using System;
using System.Diagnostics;
using Allocator.Metadata;
using Allocator.Threading;

namespace Allocator.Hpa;

/// <summary>
/// The small extent cache in front of a hugepage shard (jemalloc 5.3's sec): freed extents up to
/// <see cref="SecOptions.MaxAlloc"/> wait in per-size LIFO bins of a few shards, so that most
/// allocations and frees of slabs take a shard lock of their own rather than the hugepage shard's.
/// No coalescing: an extent comes back exactly as it went in. A thread picks its shard at random,
/// once.
/// </summary>
internal sealed unsafe class Sec
{
    [ThreadStatic] private static uint t_random;

    private readonly ISecFallback _fallback;
    private readonly SecOptions _opts;
    private readonly nuint _page = Os.Pages.PageSize;
    private readonly int _nbins;
    private readonly Shard[] _shards;

    /// <summary>Creates a cache in front of <paramref name="fallback"/>.</summary>
    public Sec(ISecFallback fallback, SecOptions opts)
    {
        if (opts.NShards < 0) throw new ArgumentOutOfRangeException(nameof(opts), opts.NShards, "The cache's shard count is 0 (off) or positive.");
        _fallback = fallback;
        _opts = opts;
        _nbins = (int)(opts.MaxAlloc / _page);
        _shards = new Shard[opts.NShards];
        for (int i = 0; i < _shards.Length; i++) _shards[i] = new Shard(_nbins);
    }

    private sealed class Shard
    {
        public readonly RankedLock Lock = new(LockRank.HpaSec);
        public readonly Edata*[] Bins;
        public readonly long[] BinBytes;
        public readonly bool[] BeingFilled;
        public bool Enabled = true;
        public long Bytes;
        public int FlushNext;

        public Shard(int nbins)
        {
            Bins = new Edata*[nbins];
            BinBytes = new long[nbins];
            BeingFilled = new bool[nbins];
        }
    }

    /// <summary>Bytes cached over every shard.</summary>
    public long Bytes
    {
        get
        {
            long n = 0;
            foreach (Shard s in _shards)
            {
                using (s.Lock.EnterScope()) n += s.Bytes;
            }

            return n;
        }
    }

    private Shard? Pick()
    {
        if (_shards.Length == 0) return null;
        uint r = t_random;
        if (r == 0)
        {
            r = (uint)Random.Shared.Next(1, int.MaxValue);
            t_random = r;
        }

        return _shards[(int)(((ulong)r * (ulong)_shards.Length) >> 31)];
    }

    /// <summary>An extent from the cache, or from the shard behind it.</summary>
    public Edata* Alloc(nuint size, nuint alignment, bool zero)
    {
        if (zero || alignment > _page || size > _opts.MaxAlloc || size == 0) return _fallback.Alloc(size, alignment, zero);
        Shard? shard = Pick();
        if (shard is null) return _fallback.Alloc(size, alignment, zero);
        int bin = (int)(size / _page) - 1;
        bool fill = false;
        using (shard.Lock.EnterScope())
        {
            Edata* e = shard.Bins[bin];
            if (e != null)
            {
                shard.Bins[bin] = e->ListNext;
                shard.BinBytes[bin] -= (long)size;
                shard.Bytes -= (long)size;
                return e;
            }

            // One batch fill per bin at a time: the others take single extents meanwhile.
            if (_opts.BatchFillExtra > 0 && !shard.BeingFilled[bin])
            {
                shard.BeingFilled[bin] = true;
                fill = true;
            }
        }

        return fill ? BatchFill(shard, bin, size) : _fallback.Alloc(size, alignment, zero);
    }

    private Edata* BatchFill(Shard shard, int bin, nuint size)
    {
        int want = 1 + _opts.BatchFillExtra;
        Edata** got = stackalloc Edata*[want];
        int n = _fallback.AllocBatch(size, want, got);
        Edata* flushed = null;
        using (shard.Lock.EnterScope())
        {
            shard.BeingFilled[bin] = false;
            for (int i = 1; i < n; i++)
            {
                got[i]->ListNext = shard.Bins[bin];
                shard.Bins[bin] = got[i];
                shard.BinBytes[bin] += (long)size;
                shard.Bytes += (long)size;
            }

            if (shard.Bytes > (long)_opts.MaxBytes) flushed = FlushSome(shard);
        }

        if (flushed != null) _fallback.FreeBatch(flushed);
        return n > 0 ? got[0] : null;
    }

    /// <summary>Caches a freed extent (flushing when the shard is over its bytes), or hands it to the shard behind.</summary>
    public void Free(Edata* e)
    {
        nuint size = e->Size;
        Shard? shard = size > _opts.MaxAlloc ? null : Pick();
        if (shard is null)
        {
            _fallback.Free(e);
            return;
        }

        int bin = (int)(size / _page) - 1;
        Edata* flushed = null;
        using (shard.Lock.EnterScope())
        {
            if (shard.Enabled)
            {
                e->ListNext = shard.Bins[bin];
                shard.Bins[bin] = e;
                shard.BinBytes[bin] += (long)size;
                shard.Bytes += (long)size;
                if (shard.Bytes > (long)_opts.MaxBytes) flushed = FlushSome(shard);
                e = null;
            }
        }

        if (e != null) _fallback.Free(e);
        else if (flushed != null) _fallback.FreeBatch(flushed);
    }

    // Shard lock held: whole bins, round robin, until the shard is down to BytesAfterFlush.
    private Edata* FlushSome(Shard shard)
    {
        Edata* chain = null;
        while (shard.Bytes > (long)_opts.BytesAfterFlush)
        {
            int bin = shard.FlushNext;
            shard.FlushNext = (bin + 1) % _nbins;
            chain = TakeBin(shard, bin, chain);
        }

        return chain;
    }

    private static Edata* TakeBin(Shard shard, int bin, Edata* chain)
    {
        Edata* e = shard.Bins[bin];
        while (e != null)
        {
            Edata* next = e->ListNext;
            e->ListNext = chain;
            chain = e;
            e = next;
        }

        shard.Bins[bin] = null;
        shard.Bytes -= shard.BinBytes[bin];
        shard.BinBytes[bin] = 0;
        return chain;
    }

    /// <summary>Hands every cached extent back to the shard behind.</summary>
    public void Flush() => FlushAll(disable: false);

    /// <summary>Hands every cached extent back, and from now on passes frees straight through (custom hooks were installed).</summary>
    public void Disable() => FlushAll(disable: true);

    private void FlushAll(bool disable)
    {
        foreach (Shard shard in _shards)
        {
            Edata* chain = null;
            using (shard.Lock.EnterScope())
            {
                for (int bin = 0; bin < _nbins; bin++) chain = TakeBin(shard, bin, chain);
                Debug.Assert(shard.Bytes == 0);
                if (disable) shard.Enabled = false;
            }

            if (chain != null) _fallback.FreeBatch(chain);
        }
    }
}
