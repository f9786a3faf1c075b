using System.Diagnostics;

namespace Allocator.Extents;

/// <summary>
/// An intrusive pairing heap of <see cref="Edata"/> ordered by (serial number, address), as
/// jemalloc's edata_heap: O(1) insert and minimum, amortized O(log n) removal of any member.
/// Links live in the edata (child, next sibling, and prev = previous sibling or, for a leftmost
/// child, its parent), so the heap itself is one pointer.
/// </summary>
internal unsafe struct EdataHeap
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

    private static Edata* Meld(Edata* a, Edata* b)
    {
        if (a == null) return b;
        if (b == null) return a;
        if (Edata.CompareSerialThenAddress(b, a) < 0)
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
