using System;
using System.ComponentModel;
using System.Threading;

namespace Allocator.Extents;

/// <summary>
/// Recycles <see cref="Edata"/> structs (jemalloc's edata_cache): freed ones go on a list under a
/// lock, and only an empty list costs a new one from <see cref="Base"/>.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Advanced)]
public sealed unsafe class EdataCache
{
    private readonly Base _base;
    private readonly Lock _lock = new();
    private Edata* _free;
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
    public Edata* Get()
    {
        lock (_lock)
        {
            Edata* e = _free;
            if (e != null)
            {
                _free = e->HeapNext;
                _count--;
                return e;
            }
        }

        return _base.AllocateEdata();
    }

    /// <summary>Gives a struct back for reuse.</summary>
    public void Put(Edata* edata)
    {
        lock (_lock)
        {
            edata->HeapNext = _free;
            _free = edata;
            _count++;
        }
    }
}
