using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace Allocator.Bench.Workloads;

/// <summary>
/// A bounded single-producer single-consumer ring. Each side keeps a private copy of the other
/// side's index and rereads the shared one only when the copy says full or empty, so the two
/// threads touch each other's cache lines rarely and the figure is the allocator's cross-thread
/// cost rather than the queue's.
/// </summary>
internal sealed class SpscRing<T>
{
    private readonly T[] _items;
    private readonly long _mask;
    private PaddedLong _head;       // next slot to read; written by the consumer
    private PaddedLong _tail;       // next slot to write; written by the producer
    private PaddedLong _headCopy;   // the producer's view of _head
    private PaddedLong _tailCopy;   // the consumer's view of _tail

    public SpscRing(int capacity)
    {
        if (capacity <= 0 || (capacity & (capacity - 1)) != 0)
            throw new System.ArgumentOutOfRangeException(nameof(capacity), "The capacity must be a power of two.");
        _items = new T[capacity];
        _mask = capacity - 1;
    }

    public void Enqueue(T item)
    {
        long tail = _tail.Value;
        if (tail - _headCopy.Value >= _items.Length)
        {
            // Spin and yield, but never Sleep(1): a millisecond asleep would dwarf the work.
            var spin = new SpinWait();
            while (tail - (_headCopy.Value = Volatile.Read(ref _head.Value)) >= _items.Length)
                spin.SpinOnce(sleep1Threshold: -1);
        }
        _items[tail & _mask] = item;
        Volatile.Write(ref _tail.Value, tail + 1);
    }

    public T Dequeue()
    {
        long head = _head.Value;
        if (head >= _tailCopy.Value)
        {
            var spin = new SpinWait();
            while (head >= (_tailCopy.Value = Volatile.Read(ref _tail.Value)))
                spin.SpinOnce(sleep1Threshold: -1);
        }
        long index = head & _mask;
        T item = _items[index];
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
            _items[index] = default!; // the ring must not keep managed blocks alive
        Volatile.Write(ref _head.Value, head + 1);
        return item;
    }
}

/// <summary>One index alone on its cache line (64 bytes either side), against false sharing.
/// Outside the ring because a type nested in a generic class is generic, and generic types
/// cannot have explicit layout.</summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct PaddedLong
{
    [FieldOffset(64)]
    public long Value;
}
