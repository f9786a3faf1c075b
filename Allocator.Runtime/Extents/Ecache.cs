using System;
using System.ComponentModel;
using System.Threading;
using Allocator.Metadata;
using Allocator.Sizing;
using Allocator.Threading;

namespace Allocator.Extents;

/// <summary>
/// A cache of free extents in one state (jemalloc's ecache): one lock, a set of ordinary extents and
/// a separate set of guarded ones (exact-fit reuse, never split or merged).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Advanced)]
public sealed class Ecache
{
    private readonly RankedLock _lock = new(LockRank.Ecache);
    private long _acquisitions;

    /// <summary>Creates an empty cache for <paramref name="state"/>.</summary>
    public Ecache(Base metadata, SizeClasses pageClasses, ExtentState state, bool delayCoalesce)
    {
        State = state;
        DelayCoalesce = delayCoalesce;
        Eset = new Eset(metadata, pageClasses, state);
        GuardedEset = new Eset(metadata, pageClasses, state);
    }

    /// <summary>The state of every member.</summary>
    public ExtentState State { get; }

    /// <summary>Small extents are not coalesced on insert, only when evicted (the dirty cache).</summary>
    public bool DelayCoalesce { get; }

    /// <summary>Unguarded members.</summary>
    internal Eset Eset { get; }

    /// <summary>Guarded members.</summary>
    internal Eset GuardedEset { get; }

    /// <summary>Pages held by all members.</summary>
    public nuint Npages => Eset.Npages + GuardedEset.Npages;

    /// <summary>How many times the lock has been taken (tests count them on the recycle path).</summary>
    public long LockAcquisitions => Volatile.Read(ref _acquisitions);

    /// <summary>Takes the lock; dispose the scope to release it.</summary>
    internal RankedLock.Scope Enter()
    {
        RankedLock.Scope scope = _lock.EnterScope();
        _acquisitions++;
        return scope;
    }

    /// <summary>Whether the current thread holds the lock.</summary>
    public bool IsHeldByCurrentThread => _lock.IsHeldByCurrentThread;

    /// <summary>The set a member with this guard flag lives in.</summary>
    internal Eset SetFor(bool guarded) => guarded ? GuardedEset : Eset;
}
