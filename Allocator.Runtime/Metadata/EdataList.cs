using System.Diagnostics;

namespace Allocator.Metadata;

/// <summary>Which pair of link fields of an <see cref="Edata"/> an <see cref="EdataList{TLinks}"/> threads through.</summary>
internal unsafe interface IEdataLinks
{
    static abstract ref Edata* Next(Edata* e);

    static abstract ref Edata* Prev(Edata* e);
}

/// <summary>The list links of active extents: a bin's full slabs, an arena's large extents.</summary>
internal readonly unsafe struct ActiveLinks : IEdataLinks
{
    public static ref Edata* Next(Edata* e) => ref e->ListNext;

    public static ref Edata* Prev(Edata* e) => ref e->ListPrev;
}

/// <summary>The LRU links of free extents: an extent set's eviction order.</summary>
internal readonly unsafe struct LruLinks : IEdataLinks
{
    public static ref Edata* Next(Edata* e) => ref e->LruNext;

    public static ref Edata* Prev(Edata* e) => ref e->LruPrev;
}

/// <summary>
/// An intrusive doubly linked list of <see cref="Edata"/> with head and tail (jemalloc's ql over
/// edata): O(1) append and removal of any member, links in the edata, no allocation. The caller
/// holds whatever lock guards the list.
/// </summary>
internal unsafe struct EdataList<TLinks>
    where TLinks : struct, IEdataLinks
{
    private Edata* _head, _tail;

    public readonly bool IsEmpty => _head == null;

    /// <summary>The oldest member (the first appended of those still here), or null.</summary>
    public readonly Edata* First => _head;

    /// <summary>The member after <paramref name="e"/>, or null.</summary>
    public static Edata* Next(Edata* e) => TLinks.Next(e);

    public void Append(Edata* e)
    {
        TLinks.Next(e) = null;
        TLinks.Prev(e) = _tail;
        if (_tail != null) TLinks.Next(_tail) = e;
        else _head = e;
        _tail = e;
    }

    public void Remove(Edata* e)
    {
        Debug.Assert(e == _head || TLinks.Prev(e) != null, "removing an edata that is not in this list");
        Edata* next = TLinks.Next(e), prev = TLinks.Prev(e);
        if (prev != null) TLinks.Next(prev) = next;
        else _head = next;
        if (next != null) TLinks.Prev(next) = prev;
        else _tail = prev;
        TLinks.Next(e) = TLinks.Prev(e) = null;
    }

    /// <summary>Forgets every member at once (their links are left as they are).</summary>
    public void Clear() => _head = _tail = null;
}
