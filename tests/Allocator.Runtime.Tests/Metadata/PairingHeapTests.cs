using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;

namespace Allocator.Tests.Metadata;

using Allocator.Metadata;

/// <summary>
/// The intrusive pairing heap under the free-extent bins, the edata cache, the bins' non-full
/// slabs and the psset: every operation checked against a sorted model.
/// </summary>
public unsafe class PairingHeapTests
{
    private struct Node
    {
        public long Key;
        public Node* Child, Next, Prev;
    }

    private readonly struct ByKey : IPairingHeapNode<Node>
    {
        public static ref Node* Child(Node* n) => ref n->Child;

        public static ref Node* Next(Node* n) => ref n->Next;

        public static ref Node* Prev(Node* n) => ref n->Prev;

        public static bool Precedes(Node* a, Node* b) => a->Key < b->Key;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Random_inserts_and_removals_of_any_member_keep_the_model_order(int seed)
    {
        const int capacity = 2_000;
        Node* nodes = (Node*)NativeMemory.AllocZeroed(capacity, (nuint)sizeof(Node));
        try
        {
            var random = new Random(seed);
            var heap = new PairingHeap<Node, ByKey>();
            var model = new SortedSet<(long Key, int Index)>();
            var outside = new List<int>(Enumerable.Range(0, capacity));
            long nextKey = 0;
            for (int step = 0; step < 40_000; step++)
            {
                int action = random.Next(10);
                if (outside.Count > 0 && (action < 5 || model.Count == 0))
                {
                    int slot = random.Next(outside.Count);
                    int i = outside[slot];
                    outside[slot] = outside[^1];
                    outside.RemoveAt(outside.Count - 1);
                    nodes[i].Key = nextKey++ * 7919 % 1_000_003;
                    heap.Insert(&nodes[i]);
                    model.Add((nodes[i].Key, i));
                }
                else if (action < 8)
                {
                    var victim = model.ElementAt(random.Next(model.Count));
                    heap.Remove(&nodes[victim.Index]);
                    model.Remove(victim);
                    outside.Add(victim.Index);
                }
                else
                {
                    Node* first = heap.RemoveFirst();
                    var expected = model.Min;
                    Assert.True(first == &nodes[expected.Index], $"step {step}: RemoveFirst returned key {first->Key}, the model's minimum is {expected.Key}");
                    model.Remove(expected);
                    outside.Add(expected.Index);
                }

                Assert.Equal(model.Count == 0, heap.IsEmpty);
                if (model.Count > 0) Assert.True(heap.First == &nodes[model.Min.Index], $"step {step}: First is key {heap.First->Key}, the model's minimum is {model.Min.Key}");
            }

            var seen = new HashSet<nint>();
            GCHandle handle = GCHandle.Alloc(seen);
            try
            {
                heap.ForEach(&Collect, (void*)GCHandle.ToIntPtr(handle));
            }
            finally
            {
                handle.Free();
            }

            Assert.Equal(model.Select(m => (nint)(&nodes[m.Index])).ToHashSet(), seen);

            var drained = new List<long>();
            for (Node* n; (n = heap.RemoveFirst()) != null;) drained.Add(n->Key);
            Assert.Equal(model.Select(m => m.Key), drained);
            Assert.True(heap.IsEmpty);
        }
        finally
        {
            NativeMemory.Free(nodes);
        }
    }

    private static void Collect(Node* node, void* state)
    {
        var seen = (HashSet<nint>)GCHandle.FromIntPtr((nint)state).Target!;
        Assert.True(seen.Add((nint)node), "ForEach visited a node twice");
    }
}
