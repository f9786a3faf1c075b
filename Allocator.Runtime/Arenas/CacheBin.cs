using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Allocator;

/// <summary>
/// One size class's stack of cached free regions in a thread cache (jemalloc's <c>cache_bin_t</c>).
/// An unmanaged struct: it lives inside a per-thread native block, and its slots in native memory
/// the owner provides.
/// </summary>
/// <remarks>
/// <para>
/// The slots are <c>[bottom, bottom + capacity)</c> and the stack grows down: the cached items are
/// <c>[head, bottom + capacity)</c>, the most recently pushed at <c>head</c>. The deepest items are
/// the oldest, and <see cref="FlushTo"/> takes those first (they are the coldest in the CPU cache,
/// and keeping the newest keeps reuse hot), as jemalloc does.
/// </para>
/// <para>
/// The low-water mark is the fewest items the bin held since <see cref="ResetLowWater"/>. The
/// thread cache's incremental GC flushes part of it: items that stayed unused for a whole GC
/// period are not needed. It is kept as a slot position so that <see cref="Pop"/> checks
/// "non-empty" and "above the low-water mark" with one comparison: the mark is never below
/// the stack's top, and it is the bottom end when the bin is empty.
/// </para>
/// <para>
/// Four pointers and nothing else: 32 bytes, so the hot paths reach bin <c>i</c> with a shift, and two
/// bins share a cache line. Fill and flush counts are kept per arena bin (<see cref="Bin"/>), not here.
/// </para>
/// <para>Not thread-safe: a bin belongs to one thread (or to the finalizer that flushes a dead thread's cache).</para>
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CacheBin
{
    /// <summary>The largest capacity a bin may have (jemalloc's <c>CACHE_BIN_NCACHED_MAX</c>).</summary>
    public const int MaxCapacity = 8192;

    private void** _head;
    private void** _lowWater;
    private void** _full;
    private void** _end;

    /// <summary>Prepares an empty bin over <paramref name="capacity"/> slots starting at <paramref name="slots"/>.</summary>
    /// <param name="slots">Native storage for <paramref name="capacity"/> pointers, owned by the caller and outliving the bin. May be null when the capacity is 0.</param>
    /// <param name="capacity">How many items the bin can hold, 0 to <see cref="MaxCapacity"/>; 0 disables caching for the size class.</param>
    public void Init(void** slots, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, MaxCapacity);
        if (slots == null && capacity != 0)
        {
            throw new ArgumentNullException(nameof(slots));
        }

        _full = slots;
        _end = slots + capacity;
        _head = _end;
        _lowWater = _end;
    }

    /// <summary>How many items the bin can hold (jemalloc's <c>ncached_max</c>).</summary>
    public readonly int Capacity => (int)(_end - _full);

    /// <summary>How many items the bin holds.</summary>
    public readonly int Count => (int)(_end - _head);

    /// <summary>The fewest items the bin held since the last <see cref="ResetLowWater"/>.</summary>
    public readonly int LowWater => (int)(_end - _lowWater);

    /// <summary>True when <see cref="TryPush"/> would fail.</summary>
    public readonly bool IsFull => _head == _full;

    /// <summary>Whether <paramref name="item"/> is cached (a linear scan, for debug checks).</summary>
    public readonly bool Contains(void* item)
    {
        for (void** p = _head; p < _end; p++)
        {
            if (*p == item) return true;
        }

        return false;
    }

    /// <summary>Takes the most recently cached item.</summary>
    /// <param name="item">The item, or null when the bin is empty.</param>
    /// <returns>False when the bin is empty.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryPop(out void* item)
    {
        item = Pop();
        return item != null;
    }

    /// <summary>Takes the most recently cached item, or returns null when the bin is empty.</summary>
    /// <remarks>The hot path's form: a returned pointer stays in a register, where an out parameter is spilled.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void* Pop()
    {
        void** head = _head;
        // Above the low-water mark implies non-empty, so one compare serves the common case.
        if (head != _lowWater)
        {
            _head = head + 1;
            return *head;
        }

        return PopAtLowWater();
    }

    /// <summary>
    /// Takes the most recently cached item while the bin holds more than its low-water mark, or
    /// returns null (also when the bin is empty): the caller then takes its slow path, which pops with
    /// <see cref="Pop"/>. It calls nothing, so an out-of-line caller needs no saved registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void* PopAboveLowWater()
    {
        void** head = _head;
        if (head == _lowWater) return null;
        _head = head + 1;
        return *head;
    }

    /// <summary>Caches <paramref name="item"/> on top of the stack.</summary>
    /// <param name="item">A free region of this bin's size class; never null.</param>
    /// <returns>False when the bin is full (the caller flushes, then pushes again).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryPush(void* item)
    {
        Debug.Assert(item != null, "A null item would be indistinguishable from an empty pop.");
        void** head = _head;
        if (head == _full)
        {
            return false;
        }

        head--;
        *head = item;
        _head = head;
        return true;
    }

    /// <summary>
    /// Caches up to <paramref name="count"/> items from <paramref name="items"/>, as many as fit. They
    /// go on top of the stack and pop in batch order: <c>items[0]</c> first.
    /// </summary>
    /// <param name="items">The batch, typically regions just taken from a slab.</param>
    /// <param name="count">How many items the batch holds.</param>
    /// <returns>How many were taken; the caller keeps the rest (<c>items[taken..count)</c>).</returns>
    public int Fill(void** items, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int taken = Math.Min(count, (int)(_head - _full));
        if (taken == 0)
        {
            return 0;
        }

        void** newHead = _head - taken;
        Buffer.MemoryCopy(items, newHead, (long)taken * sizeof(void*), (long)taken * sizeof(void*));
        _head = newHead;
        return taken;
    }

    /// <summary>
    /// Removes the <paramref name="count"/> oldest items (or all, if fewer) into
    /// <paramref name="destination"/>, oldest first; the newer items stay cached.
    /// </summary>
    /// <param name="destination">Room for <paramref name="count"/> pointers; the caller returns them to their slabs.</param>
    /// <param name="count">How many items to remove at most.</param>
    /// <returns>How many were removed.</returns>
    public int FlushTo(void** destination, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int flushed = Math.Min(count, Count);
        if (flushed == 0)
        {
            return 0;
        }

        // The oldest item is the deepest slot, at _end - 1; hand them out from there upward.
        void** oldest = _end - 1;
        for (int i = 0; i < flushed; i++)
        {
            destination[i] = *(oldest - i);
        }

        // Slide the survivors down to the bottom; their order is unchanged.
        long keptBytes = (long)(Count - flushed) * sizeof(void*);
        Buffer.MemoryCopy(_head, _head + flushed, keptBytes, keptBytes);
        _head += flushed;
        if (_lowWater < _head)
        {
            // The bin now holds fewer items than the old mark.
            _lowWater = _head;
        }

        return flushed;
    }

    /// <summary>Starts a new low-water period at the current count (after the thread cache's GC looked at it).</summary>
    public void ResetLowWater() => _lowWater = _head;

    // Cold path, kept out of line so that Pop inlines small: the pop goes below the mark, or the bin is empty.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void* PopAtLowWater()
    {
        void** head = _head;
        if (head == _end) return null;
        _head = head + 1;
        _lowWater = head + 1;
        return *head;
    }
}
