using System;
using System.Collections.Generic;
using System.Threading;
using Allocator.Decay;
using Allocator.Extents;
using Allocator.Metadata;
using Allocator.Threading;

namespace Allocator;

// The arena's lifecycle: purging, decay times, reset and dispose.
public sealed unsafe partial class Arena<TPolicy>
{
    /// <inheritdoc/>
    public override void Purge()
    {
        ThrowIfDisposed();
        // Dead threads' caches too, which a GC would otherwise flush in its own time.
        using (ThreadCaches.ListLock.EnterScope()) ThreadCaches.ReapDeadThreads();
        // What this thread caches would otherwise keep whole slabs and large extents out of reach.
        ThreadCache* tc = ThreadCacheOrNull();
        if (tc != null) FlushAll(tc);
        _pa.PurgeAll();
        // Slabs that are still in use keep their free pages resident; give those back as well.
        foreach (Bin bin in _bins) bin.PurgeFreePages(_pa.Context);
    }

    /// <inheritdoc/>
    public override void SetDecayTimes(long dirtyDecayMs, long muzzyDecayMs)
    {
        ThrowIfDisposed();
        if (!DecayTracker.IsValidDecayMs(dirtyDecayMs)) throw new ArgumentOutOfRangeException(nameof(dirtyDecayMs), dirtyDecayMs, "A decay time is -1 (never), 0 (at once) or milliseconds.");
        if (!DecayTracker.IsValidDecayMs(muzzyDecayMs)) throw new ArgumentOutOfRangeException(nameof(muzzyDecayMs), muzzyDecayMs, "A decay time is -1 (never), 0 (at once) or milliseconds.");
        _pa.SetDecayMs(ExtentState.Dirty, dirtyDecayMs);
        _pa.SetDecayMs(ExtentState.Muzzy, muzzyDecayMs);
        Volatile.Write(ref _decays, dirtyDecayMs != -1 || muzzyDecayMs != -1);
    }

    /// <inheritdoc/>
    public override void Reset()
    {
        ThrowIfDisposed();
        // A new key makes every thread's cache stale: its contents point into slabs freed below.
        using (ThreadCaches.ListLock.EnterScope()) NewKey();
        NextGeneration();
        ReleaseEverything();
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        using (ThreadCaches.ListLock.EnterScope())
        {
            if (_disposed) return;
            _disposed = true;
            NextGeneration();
            // A fresh key, which no thread cache and no handle holds: every fast path misses from now on.
            NewKey();
            // Threads still point at their blocks: mark them, and each thread frees its own later.
            for (ThreadCache* tc = _caches; tc != null; tc = tc->Next) tc->Orphaned = 1;
            _caches = null;
            Unregister(this);
        }

        WaitForReaders();
        ReportLeaks();
        ReleaseEverything();
        _pa.Dispose();
        ArenaIndices.Return(_index);
    }

    private void ReleaseEverything()
    {
        var extents = new List<nint>();
        foreach (Bin bin in _bins) bin.ReleaseAll(extents);
        _large.ReleaseAll(extents);
        ReleaseSampled(extents);
        foreach (nint e in extents)
        {
            ((Edata*)e)->IsInThreadCache = false;
            ((Edata*)e)->IsProfiled = false;
            _pa.Free((Edata*)e);
        }
    }
}
