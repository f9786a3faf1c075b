using System.Diagnostics;
using Allocator.Metadata;

namespace Allocator.Extents;

/// <summary>An ordering of edata structs for <see cref="EdataHeap{TOrder}"/>, bound at compile time.</summary>
internal unsafe interface IEdataOrder
{
    static abstract int Compare(Edata* a, Edata* b);
}

/// <summary>(serial number, address): older extents first, then lower ones (free-extent bins, non-full slabs).</summary>
internal readonly unsafe struct SerialThenAddress : IEdataOrder
{
    public static int Compare(Edata* a, Edata* b) => Edata.CompareSerialThenAddress(a, b);
}

/// <summary>(edata serial number, pointer): the oldest metadata is reused first (the edata cache).</summary>
internal readonly unsafe struct EsnThenPointer : IEdataOrder
{
    public static int Compare(Edata* a, Edata* b)
    {
        int c = a->Esn.CompareTo(b->Esn);
        return c != 0 ? c : ((nuint)a).CompareTo((nuint)b);
    }
}

/// <summary>
/// An intrusive pairing heap of <see cref="Edata"/>, as jemalloc's edata heaps: O(1) insert and
/// minimum, amortized O(log n) removal of any member. Links live in the edata (child, next
/// sibling, and prev = previous sibling or, for a leftmost child, its parent), so the heap itself
/// is one pointer.
/// </summary>
internal unsafe struct EdataHeap<TOrder>
    where TOrder : struct, IEdataOrder
{
    private Edata* _root;

    public readonly bool IsEmpty => _root == null;

    /// <summary>The oldest, lowest member, or null.</summary>
    public readonly Edata* First => _root;

    public void Insert(Edata* e)
    {
        e->HeapChild = e->HeapNext = e->HeapPrev = null;
        _root = Meld(_root, e);
    }

    public void Remove(Edata* e)
    {
        if (e == _root)
        {
            _root = MergePairs(e->HeapChild);
            return;
        }

        Debug.Assert(e->HeapPrev != null, "removing an edata that is not in this heap");
        if (e->HeapPrev->HeapChild == e) e->HeapPrev->HeapChild = e->HeapNext;
        else e->HeapPrev->HeapNext = e->HeapNext;
        if (e->HeapNext != null) e->HeapNext->HeapPrev = e->HeapPrev;
        _root = Meld(_root, MergePairs(e->HeapChild));
    }

    /// <summary>Removes and returns the first member, or null when empty.</summary>
    public Edata* RemoveFirst()
    {
        Edata* e = _root;
        if (e != null) Remove(e);
        return e;
    }

    /// <summary>Visits every member (no order); the heap must not change meanwhile.</summary>
    public readonly void ForEach(delegate*<Edata*, void*, void> visit, void* state)
    {
        if (_root != null) Visit(_root, visit, state);
    }

    private static void Visit(Edata* e, delegate*<Edata*, void*, void> visit, void* state)
    {
        for (; e != null; e = e->HeapNext)
        {
            visit(e, state);
            if (e->HeapChild != null) Visit(e->HeapChild, visit, state);
        }
    }

    private static Edata* Meld(Edata* a, Edata* b)
    {
        if (a == null) return b;
        if (b == null) return a;
        if (TOrder.Compare(b, a) < 0)
        {
            Edata* t = a;
            a = b;
            b = t;
        }

        b->HeapPrev = a;
        b->HeapNext = a->HeapChild;
        if (a->HeapChild != null) a->HeapChild->HeapPrev = b;
        a->HeapChild = b;
        a->HeapNext = a->HeapPrev = null;
        return a;
    }

    // Two passes: meld siblings pairwise left to right, then fold the pairs right to left.
    private static Edata* MergePairs(Edata* first)
    {
        Edata* pairs = null;
        while (first != null)
        {
            Edata* a = first;
            Edata* b = a->HeapNext;
            first = b == null ? null : b->HeapNext;
            a->HeapNext = a->HeapPrev = null;
            if (b != null) b->HeapNext = b->HeapPrev = null;
            Edata* m = Meld(a, b);
            m->HeapNext = pairs;
            pairs = m;
        }

        Edata* result = null;
        while (pairs != null)
        {
            Edata* next = pairs->HeapNext;
            pairs->HeapNext = null;
            result = Meld(pairs, result);
            pairs = next;
        }

        return result;
    }
}
