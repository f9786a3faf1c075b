using System;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Allocator.Arenas;

/// <summary>
/// Which regions of a slab are in use (jemalloc's slab bitmap): one bit per region, for slabs
/// of up to <see cref="MaxBits"/> regions, stored inline (an unmanaged struct inside the slab's
/// native metadata).
/// </summary>
/// <remarks>
/// <para>A set bit means the region is allocated; a clear bit means it is free. Allocation is
/// <see cref="FindFirstAndSet"/> (the lowest free region, which keeps a slab's live regions packed
/// toward its start), and freeing is <see cref="Unset"/>.</para>
/// <para>The bits past <see cref="BitCount"/> are kept set, so that searching for a clear bit never
/// needs a bound check: they look like regions that are always allocated.</para>
/// <para>Not thread-safe: the owning bin's lock guards it.</para>
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct SlabBitmap
{
    /// <summary>The most regions a slab can track (jemalloc's <c>BITMAP_MAXBITS</c> for 4 KiB pages).</summary>
    public const int MaxBits = 512;

    private const int WordCount = MaxBits / 64;

    private fixed ulong _words[WordCount];
    private int _bitCount;
    private int _setCount;

    /// <summary>Prepares a bitmap of <paramref name="bitCount"/> regions, all free.</summary>
    /// <param name="bitCount">The number of regions, 1 to <see cref="MaxBits"/>.</param>
    public void Init(int bitCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bitCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bitCount, MaxBits);
        _bitCount = bitCount;
        _setCount = 0;
        int fullWords = bitCount >> 6;
        int tailBits = bitCount & 63;
        for (int i = 0; i < WordCount; i++)
        {
            // Clear for real regions; set for the padding past the last one.
            _words[i] = i < fullWords ? 0UL : i == fullWords && tailBits != 0 ? ~0UL << tailBits : ~0UL;
        }
    }

    /// <summary>The number of regions tracked.</summary>
    public readonly int BitCount => _bitCount;

    /// <summary>The number of allocated regions.</summary>
    public readonly int SetCount => _setCount;

    /// <summary>The number of free regions.</summary>
    public readonly int UnsetCount => _bitCount - _setCount;

    /// <summary>True when every region is allocated.</summary>
    public readonly bool IsFull => _setCount == _bitCount;

    /// <summary>True when no region is allocated.</summary>
    public readonly bool IsEmpty => _setCount == 0;

    /// <summary>Tells whether region <paramref name="bit"/> is allocated.</summary>
    /// <param name="bit">A region index below <see cref="BitCount"/>.</param>
    /// <returns>True when allocated.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly bool IsSet(int bit)
    {
        Debug.Assert((uint)bit < (uint)_bitCount);
        // C# masks a ulong shift count to its low 6 bits, so 1UL << bit is the bit within its word.
        return (_words[bit >> 6] & (1UL << bit)) != 0;
    }

    /// <summary>Allocates the lowest free region (jemalloc's <c>bitmap_sfu</c>).</summary>
    /// <returns>The region index, or -1 when the bitmap is full.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int FindFirstAndSet()
    {
        if (_setCount == _bitCount)
        {
            return -1;
        }

        // Not full, so some word below the padding has a clear bit and the loop ends before WordCount.
        int word = 0;
        ulong free;
        while ((free = ~_words[word]) == 0)
        {
            word++;
        }

        int bit = BitOperations.TrailingZeroCount(free);
        _words[word] |= 1UL << bit;
        _setCount++;
        return (word << 6) | bit;
    }

    /// <summary>Finds the lowest free region at or after <paramref name="from"/> without allocating it (jemalloc's <c>bitmap_ffu</c>).</summary>
    /// <param name="from">The first region index to consider, 0 to <see cref="BitCount"/>.</param>
    /// <returns>The region index, or -1 when every region from there on is allocated.</returns>
    public readonly int FindFirstUnset(int from = 0)
    {
        Debug.Assert((uint)from <= (uint)_bitCount);
        int word = from >> 6;
        if (word >= WordCount)
        {
            return -1;
        }

        // Mask off the clear bits below `from` in its word; the padding stops the search at the end.
        ulong free = ~_words[word] & (~0UL << (from & 63));
        while (free == 0)
        {
            if (++word == WordCount)
            {
                return -1;
            }

            free = ~_words[word];
        }

        return (word << 6) | BitOperations.TrailingZeroCount(free);
    }

    /// <summary>Marks region <paramref name="bit"/> allocated; it must be free.</summary>
    /// <param name="bit">A region index below <see cref="BitCount"/>.</param>
    public void Set(int bit)
    {
        Debug.Assert(!IsSet(bit), "The region is already allocated.");
        _words[bit >> 6] |= 1UL << bit;
        _setCount++;
    }

    /// <summary>Marks region <paramref name="bit"/> free; it must be allocated.</summary>
    /// <param name="bit">A region index below <see cref="BitCount"/>.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Unset(int bit)
    {
        Debug.Assert(IsSet(bit), "The region is already free (double free).");
        _words[bit >> 6] &= ~(1UL << bit);
        _setCount--;
    }

    /// <summary>Marks region <paramref name="bit"/> free if it is allocated, for callers that check frees (double-free detection).</summary>
    /// <param name="bit">A region index below <see cref="BitCount"/>.</param>
    /// <returns>False when the region was already free; nothing changes then.</returns>
    public bool TryUnset(int bit)
    {
        if ((uint)bit >= (uint)_bitCount || !IsSet(bit))
        {
            return false;
        }

        _words[bit >> 6] &= ~(1UL << bit);
        _setCount--;
        return true;
    }
}
