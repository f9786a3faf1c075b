using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;
using Allocator.Metadata;
using Allocator.Threading;
using Allocator.Map;
using Allocator.Profiling;

namespace Allocator;

// The thread caches: finding and creating this thread's cache, filling and flushing its bins,
// and the ticks that drive decay and the incremental trim of what a cache has not needed.
public sealed unsafe partial class Arena<TPolicy>
{
    // This thread's cache in this arena, or null when it has none valid (yet, or since a reset). The
    // hit tests the thread's last-used key only: keys are never reused and a disposed arena gets a
    // fresh one, so a match means the last-used block is this arena's and current.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ThreadCache* ThreadCacheOrNull()
    {
        if (ThreadCaches.LastKey == _key) return ThreadCaches.Last;
        return ThreadCaches.GetFromTable(_index, _key);
    }

    private ThreadCache* CurrentCache()
    {
        ThreadCache* tc = ThreadCacheOrNull();
        return tc != null ? tc : CreateCache();
    }

    private ThreadCache* CreateCache()
    {
        using (ThreadCaches.ListLock.EnterScope())
        {
            ThrowIfDisposed();
            ThreadCache* tc = ThreadCaches.Peek(_index);
            if (tc != null)
            {
                if (tc->Key == _key) return tc;
                if (tc->Orphaned == 0 && tc->ArenaId == _id)
                {
                    // Reset since this thread last came: drop what it cached, keep the block.
                    tc->Clear();
                    tc->Key = _key;
                    return tc;
                }

                Debug.Assert(tc->Orphaned != 0, "a live arena's block under another arena's index");
                ThreadCaches.Forget(tc);
                ThreadCache.Free(tc);
            }

            tc = ThreadCache.Create(_cacheCapacities, _index, _id, _key);
            tc->Shard = LeastUsedShard();
            _shardCaches[tc->Shard]++;
            if (Profiled) tc->BytesUntilSample = ProfileSampler.FirstCountdown(_profileInterval);
            tc->Next = _caches;
            if (_caches != null) _caches->Prev = tc;
            _caches = tc;
            ThreadCaches.Set(_index, tc);
            return tc;
        }
    }

    // The shard with the fewest thread caches, the lowest of those (ListLock held).
    private int LeastUsedShard()
    {
        int best = 0;
        for (int s = 1; s < _binShards; s++)
        {
            if (_shardCaches[s] < _shardCaches[best]) best = s;
        }

        return best;
    }

    // The bin of class index in a shard.
    private Bin BinOf(int index, int shard) => _bins[shard * _binCount + index];

    /// <summary>A dead thread's cache: flush what it holds into the bins, unlink and free it (ListLock held).</summary>
    internal override void FlushOnThreadExit(nint handle)
    {
        var tc = (ThreadCache*)handle;
        if (tc->Key == _key) FlushAll(tc);
        _shardCaches[tc->Shard]--;

        if (tc->Prev != null) tc->Prev->Next = tc->Next;
        else _caches = tc->Next;
        if (tc->Next != null) tc->Next->Prev = tc->Prev;
        ThreadCache.Free(tc);
    }

    // Caches a freed item; every free path (sized, unsized, large) pushes through here.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Push(ThreadCache* tc, int index, void* item)
    {
        if (!tc->Bins[index].TryPush(item)) PushAfterFlush(tc, index, item);
    }

    // A full cache bin: flush its older half to the bins, then the push fits.
    [MethodImpl(Tiering.OptimizeAtOnceOutOfLine)]
    private void PushAfterFlush(ThreadCache* tc, int index, void* item)
    {
        ref CacheBin cb = ref tc->Bins[index];
        // A misfiled block found by the flush is reported, but the half it emptied still takes this one.
        try
        {
            Flush(tc, index, cb.Capacity >> 1);
        }
        finally
        {
            cb.TryPush(item);
        }
    }

    [MethodImpl(Tiering.OptimizeAtOnce)]
    private void Fill(ThreadCache* tc, int index)
    {
        ref CacheBin cb = ref tc->Bins[index];
        int want = Math.Max(1, cb.Capacity >> 1);
        void** buffer = stackalloc void*[want];
        cb.Fill(buffer, BinOf(index, tc->Shard).Fill(_pa, buffer, want));
        Tick(tc);
    }

    private void Flush(ThreadCache* tc, int index, int count)
    {
        FlushBin(tc, index, count);
        Tick(tc);
    }

    // Empties every bin of a cache back into the arena (Purge, and a dead thread's cache).
    private void FlushAll(ThreadCache* tc)
    {
        // A bad block in one bin must not strand the others: report the first after all are flushed.
        InvalidOperationException? first = null;
        for (int i = 0; i < tc->BinCount; i++)
        {
            int n = tc->Bins[i].Count;
            if (n == 0) continue;
            try
            {
                FlushBin(tc, i, n);
            }
            catch (InvalidOperationException ex)
            {
                first ??= ex;
            }
        }

        if (first != null) throw first;
    }

    [MethodImpl(Tiering.OptimizeAtOnce)]
    private void FlushBin(ThreadCache* tc, int index, int count)
    {
        ref CacheBin cb = ref tc->Bins[index];
        count = Math.Max(1, count);
        void** buffer = stackalloc void*[count];
        int n = cb.FlushTo(buffer, count);
        if (index < _binCount) ReturnToBin(index, buffer, n);
        else
        {
            for (int i = 0; i < n; i++)
            {
                Edata* e = LookupUnchecked(buffer[i]);
                e->IsInThreadCache = false;
                FreeLargeNow(e, index, tick: false);
            }
        }
    }

    // A large block leaves a thread cache: clear the in-cache mark that catches a second free. The
    // cache bins hold addresses, large ones too, so that a pair of calls chains no loads through the
    // edata: the address goes back to the caller, and the mark's lookup is off that path.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void* TakeCachedLarge(void* p)
    {
        RtreeContents.EdataOf(Rtree.ReadMappedWord(_rtreeRoot, p))->IsInThreadCache = false;
        return p;
    }

    // Slow-path events drive the periodic work: decay, and trimming what this thread's cache has
    // not needed lately. Never called from inside a fill or flush.
    private void Tick(ThreadCache* tc)
    {
        if (tc != null)
        {
            if (++tc->Ticks < TicksPerDecay) return;
            tc->Ticks = 0;
            TrimOneBin(tc);
        }
        else if (Interlocked.Increment(ref _uncachedTicks) % TicksPerDecay != 0)
        {
            return;
        }

        if (Decays) _pa.DecayTick();
    }

    // jemalloc's incremental tcache GC: visit one bin per round; whatever stayed unused below its
    // low-water mark since the last visit mostly goes back to the bins and the page allocator.
    private void TrimOneBin(ThreadCache* tc)
    {
        int index = tc->NextTrim;
        tc->NextTrim = index + 1 == tc->BinCount ? 0 : index + 1;
        ref CacheBin cb = ref tc->Bins[index];
        int lowWater = cb.LowWater;
        if (lowWater > 0) FlushBin(tc, index, lowWater - (lowWater >> 2));
        cb.ResetLowWater();
    }
}
