using System;
using System.Collections.Generic;
using System.Threading;
using Allocator.Metadata;
using Allocator.Threading;

namespace Allocator;

/// <summary>
/// An arena's live large extents (jemalloc's arena large list with its counters): the extents
/// handed out above the slab classes, and per large class how many were allocated, freed and are
/// out now. One lock guards the list and the counters; it is a leaf, never held across a call into
/// the page allocator.
/// </summary>
internal sealed unsafe class LargeExtents
{
    private readonly RankedLock _lock = new(LockRank.LargeExtents);
    private readonly int _firstIndex;
    private readonly long[] _allocations, _deallocations, _current;
    private EdataList<ActiveLinks> _list;

    /// <param name="firstIndex">The size index of the smallest large class (the number of bins).</param>
    /// <param name="classCount">How many large classes there are.</param>
    public LargeExtents(int firstIndex, int classCount)
    {
        _firstIndex = firstIndex;
        _allocations = new long[classCount];
        _deallocations = new long[classCount];
        _current = new long[classCount];
    }

    /// <summary>Records a new extent of class <paramref name="index"/>.</summary>
    public void Add(Edata* e, int index)
    {
        using (_lock.EnterScope())
        {
            _list.Append(e);
            _allocations[index - _firstIndex]++;
            _current[index - _firstIndex]++;
        }
    }

    /// <summary>Forgets an extent of class <paramref name="index"/> that is being freed.</summary>
    public void Remove(Edata* e, int index)
    {
        using (_lock.EnterScope())
        {
            _list.Remove(e);
            _deallocations[index - _firstIndex]++;
            _current[index - _firstIndex]--;
        }
    }

    /// <summary>Counts an extent resized in place as a free of its old class and an allocation of its new one.</summary>
    public void Resized(int oldIndex, int newIndex)
    {
        using (_lock.EnterScope())
        {
            _deallocations[oldIndex - _firstIndex]++;
            _current[oldIndex - _firstIndex]--;
            _allocations[newIndex - _firstIndex]++;
            _current[newIndex - _firstIndex]++;
        }
    }

    /// <summary>The counters of every class that was ever allocated, read under one hold of the lock.</summary>
    /// <param name="classSize">The usable size of a class, by size index.</param>
    public List<LargeClassStats> GetStats(Func<int, long> classSize)
    {
        var large = new List<LargeClassStats>();
        using (_lock.EnterScope())
        {
            for (int i = 0; i < _allocations.Length; i++)
            {
                if (_allocations[i] != 0)
                    large.Add(new LargeClassStats(_firstIndex + i, classSize(_firstIndex + i), _allocations[i], _deallocations[i], _current[i]));
            }
        }

        return large;
    }

    /// <summary>Checks each live extent's state and class and appends it to <paramref name="active"/>.</summary>
    /// <exception cref="InvalidOperationException">An invariant is broken; the message says which.</exception>
    public void Validate(List<nint> active)
    {
        using (_lock.EnterScope())
        {
            for (Edata* e = _list.First; e != null; e = EdataList<ActiveLinks>.Next(e))
            {
                if (e->IsSlab || e->State != ExtentState.Active || e->SizeIndex < _firstIndex)
                    throw Arena.InvariantBroken($"the large extent at 0x{(nuint)e->Address:x} has slab={e->IsSlab}, state {e->State}, size index {e->SizeIndex}");
                active.Add((nint)e);
            }
        }
    }

    /// <summary>Appends every live extent.</summary>
    public void Collect(List<nint> extents)
    {
        using (_lock.EnterScope())
        {
            for (Edata* e = _list.First; e != null; e = EdataList<ActiveLinks>.Next(e)) extents.Add((nint)e);
        }
    }

    /// <summary>Unlinks every live extent into <paramref name="extents"/> (for the caller to free), counting each as freed.</summary>
    public void ReleaseAll(List<nint> extents)
    {
        using (_lock.EnterScope())
        {
            for (Edata* e = _list.First; e != null; e = EdataList<ActiveLinks>.Next(e)) extents.Add((nint)e);
            _list.Clear();
            for (int i = 0; i < _current.Length; i++)
            {
                _deallocations[i] += _current[i];
                _current[i] = 0;
            }
        }
    }
}
