using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Allocator.Metadata;

/// <summary>
/// How a <see cref="PairingHeap{T, TNode}"/> reaches its links inside a node and orders two
/// nodes, bound at compile time so the heap's code is specialized for each node kind.
/// </summary>
internal unsafe interface IPairingHeapNode<T>
    where T : unmanaged
{
    /// <summary>The leftmost child.</summary>
    static abstract ref T* Child(T* node);

    /// <summary>The next sibling.</summary>
    static abstract ref T* Next(T* node);

    /// <summary>The previous sibling or, for a leftmost child, the parent.</summary>
    static abstract ref T* Prev(T* node);

    /// <summary>Whether <paramref name="a"/> comes out of the heap before <paramref name="b"/>.</summary>
    static abstract bool Precedes(T* a, T* b);
}

/// <summary>
/// An intrusive pairing heap: O(1) insert and minimum, amortized O(log n) removal of any member.
/// The links live in the nodes, so the heap itself is one pointer and allocates nothing; the
/// caller holds whatever lock guards it.
/// </summary>
internal unsafe struct PairingHeap<T, TNode>
    where T : unmanaged
    where TNode : struct, IPairingHeapNode<T>
{
    private T* _root;

    public readonly bool IsEmpty => _root == null;

    /// <summary>The member that comes out first, or null.</summary>
    public readonly T* First => _root;

    [MethodImpl(Tiering.OptimizeAtOnce)]
    public void Insert(T* node)
    {
        TNode.Child(node) = null;
        TNode.Next(node) = null;
        TNode.Prev(node) = null;
        _root = Meld(_root, node);
    }

    [MethodImpl(Tiering.OptimizeAtOnce)]
    public void Remove(T* node)
    {
        if (node == _root)
        {
            _root = MergePairs(TNode.Child(node));
            return;
        }

        T* prev = TNode.Prev(node), next = TNode.Next(node);
        Debug.Assert(prev != null, "removing a node that is not in this heap");
        if (TNode.Child(prev) == node) TNode.Child(prev) = next;
        else TNode.Next(prev) = next;
        if (next != null) TNode.Prev(next) = prev;
        _root = Meld(_root, MergePairs(TNode.Child(node)));
    }

    /// <summary>Removes and returns the first member, or null when empty.</summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public T* RemoveFirst()
    {
        T* node = _root;
        if (node != null) Remove(node);
        return node;
    }

    /// <summary>Visits every member (no order); the heap must not change meanwhile.</summary>
    public readonly void ForEach(delegate*<T*, void*, void> visit, void* state)
    {
        if (_root != null) Visit(_root, visit, state);
    }

    private static void Visit(T* node, delegate*<T*, void*, void> visit, void* state)
    {
        for (; node != null; node = TNode.Next(node))
        {
            visit(node, state);
            if (TNode.Child(node) != null) Visit(TNode.Child(node), visit, state);
        }
    }

    [MethodImpl(Tiering.OptimizeAtOnce)]
    private static T* Meld(T* a, T* b)
    {
        if (a == null) return b;
        if (b == null) return a;
        if (TNode.Precedes(b, a))
        {
            T* t = a;
            a = b;
            b = t;
        }

        T* child = TNode.Child(a);
        TNode.Prev(b) = a;
        TNode.Next(b) = child;
        if (child != null) TNode.Prev(child) = b;
        TNode.Child(a) = b;
        TNode.Next(a) = null;
        TNode.Prev(a) = null;
        return a;
    }

    // Two passes: meld siblings pairwise left to right, then fold the pairs right to left.
    [MethodImpl(Tiering.OptimizeAtOnce)]
    private static T* MergePairs(T* first)
    {
        T* pairs = null;
        while (first != null)
        {
            T* a = first;
            T* b = TNode.Next(a);
            first = b == null ? null : TNode.Next(b);
            TNode.Next(a) = null;
            TNode.Prev(a) = null;
            if (b != null)
            {
                TNode.Next(b) = null;
                TNode.Prev(b) = null;
            }

            T* m = Meld(a, b);
            TNode.Next(m) = pairs;
            pairs = m;
        }

        T* result = null;
        while (pairs != null)
        {
            T* next = TNode.Next(pairs);
            TNode.Next(pairs) = null;
            result = Meld(pairs, result);
            pairs = next;
        }

        return result;
    }
}
