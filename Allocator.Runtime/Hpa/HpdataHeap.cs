using System.Diagnostics;

namespace Allocator.Hpa;

/// <summary>
/// An intrusive pairing heap of pageslabs ordered by age, oldest first (one per psset bin). The
/// links live in the <see cref="Hpdata"/> (child, next sibling, and prev: the previous sibling or,
/// for a leftmost child, the parent), so the heap itself is one pointer.
/// </summary>
internal unsafe struct HpdataHeap
{
    private Hpdata* _root;

    public readonly bool IsEmpty => _root == null;

    /// <summary>The oldest member, or null.</summary>
    public readonly Hpdata* First => _root;

    public void Insert(Hpdata* ps)
    {
        ps->HeapChild = ps->HeapNext = ps->HeapPrev = null;
        _root = Meld(_root, ps);
    }

    public void Remove(Hpdata* ps)
    {
        if (ps == _root)
        {
            _root = Combine(ps->HeapChild);
            return;
        }

        Debug.Assert(ps->HeapPrev != null, "removing a pageslab that is not in this heap");
        if (ps->HeapPrev->HeapChild == ps) ps->HeapPrev->HeapChild = ps->HeapNext;
        else ps->HeapPrev->HeapNext = ps->HeapNext;
        if (ps->HeapNext != null) ps->HeapNext->HeapPrev = ps->HeapPrev;
        _root = Meld(_root, Combine(ps->HeapChild));
    }

    private static Hpdata* Meld(Hpdata* a, Hpdata* b)
    {
        if (a == null) return b;
        if (b == null) return a;
        Debug.Assert(a->Age != b->Age, "pageslab ages must be unique");
        if (b->Age < a->Age)
        {
            Hpdata* t = a;
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

    // Melds a sibling list into one heap: pairs left to right, then the pairs right to left.
    private static Hpdata* Combine(Hpdata* first)
    {
        Hpdata* pairs = null;
        while (first != null)
        {
            Hpdata* a = first, b = a->HeapNext;
            first = b == null ? null : b->HeapNext;
            a->HeapNext = a->HeapPrev = null;
            if (b != null) b->HeapNext = b->HeapPrev = null;
            Hpdata* m = Meld(a, b);
            m->HeapNext = pairs;
            pairs = m;
        }

        Hpdata* result = null;
        while (pairs != null)
        {
            Hpdata* next = pairs->HeapNext;
            pairs->HeapNext = null;
            result = Meld(pairs, result);
            pairs = next;
        }

        return result;
    }
}
