using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Threading;
using Allocator.Extents;
using Allocator.Threading;

namespace Allocator.Metadata;

/// <summary>
/// Recycles <see cref="Edata"/> structs (jemalloc's edata_cache): freed ones go into a heap under a
/// lock, the oldest (lowest edata serial number) reused first so that metadata stays packed in the
/// oldest base blocks; only an empty cache costs a new one from <see cref="Base"/>.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Advanced)]
internal sealed unsafe class EdataCache
{
    private readonly Base _base;
    private readonly RankedLock _lock = new(LockRank.EdataCache);
    private PairingHeap<Edata, EsnThenPointer> _free;
    private long _count;

    /// <summary>Creates a cache that draws new structs from <paramref name="base"/>.</summary>
    public EdataCache(Base @base)
    {
        ArgumentNullException.ThrowIfNull(@base);
        _base = @base;
    }

    /// <summary>How many structs sit in the cache.</summary>
    public long Count => Volatile.Read(ref _count);

    /// <summary>Takes a struct (contents undefined until initialized), or null when metadata memory ran out.</summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public Edata* Get()
    {
        using (_lock.EnterScope())
        {
            Edata* e = _free.First;
            if (e != null)
            {
                _free.Remove(e);
                _count--;
                return e;
            }
        }

        return _base.AllocateEdata();
    }

    /// <summary>Gives a struct back for reuse.</summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public void Put(Edata* edata)
    {
        using (_lock.EnterScope())
        {
            _free.Insert(edata);
            _count++;
        }
    }
}
