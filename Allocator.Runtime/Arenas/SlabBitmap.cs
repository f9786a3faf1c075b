using System;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Allocator.Metadata;

namespace Allocator;

/// <summary>
/// Which regions of a slab are in use (jemalloc's slab bitmap): one bit per region, for slabs
/// of up to <see cref="MaxBits"/> regions, stored inline in exactly 64 bytes so that it fits the
/// slab-data union of <c>Edata</c>, as jemalloc keeps <c>e_slab_data</c> inside <c>edata_t</c>.
/// </summary>
/// <remarks>
/// <para>A set bit means the region is allocated; a clear bit means it is free. Allocation is
/// <see cref="FindFirstAndSet"/> (the lowest free region, which keeps a slab's live regions packed
/// toward its start), and freeing is <see cref="Unset"/>.</para>
/// <para>The bitmap holds only the bits: the region count belongs to the bin (its nregs) and the
/// count of free regions to the edata (<c>FreeRegions</c>). The bits past the region count given to
/// <see cref="Init"/> are kept set, so that searching for a clear bit never needs a bound: they look
/// like regions that are always allocated. For the same reason a caller must check a region index
/// against its region count before <see cref="TryUnset"/>: a padding bit reads as allocated.</para>
/// <para>Not thread-safe: the owning bin's lock guards it.</para>
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct SlabBitmap
{
    /// <summary>The most regions a slab can track (jemalloc's <c>BITMAP_MAXBITS</c> for 4 KiB pages).</summary>
    public const int MaxBits = 512;

    private const int WordCount = MaxBits / 64;

    private fixed ulong _words[WordCount];

    /// <summary>Prepares a bitmap of <paramref name="bitCount"/> regions, all free.</summary>
    /// <param name="bitCount">The number of regions, 1 to <see cref="MaxBits"/>.</param>
    public void Init(int bitCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bitCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bitCount, MaxBits);
        int fullWords = bitCount >> 6;
        int tailBits = bitCount & 63;
        for (int i = 0; i < WordCount; i++)
        {
            // Clear for real regions; set for the padding past the last one.
            _words[i] = i < fullWords ? 0UL : i == fullWords && tailBits != 0 ? ~0UL << tailBits : ~0UL;
        }
    }

    /// <summary>Tells whether region <paramref name="bit"/> is allocated (padding bits read as allocated).</summary>
    /// <param name="bit">A bit index below <see cref="MaxBits"/>.</param>
    /// <returns>True when allocated.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly bool IsSet(int bit)
    {
        Debug.Assert((uint)bit < MaxBits);
        // C# masks a ulong shift count to its low 6 bits, so 1UL << bit is the bit within its word.
        return (_words[bit >> 6] & (1UL << bit)) != 0;
    }

    /// <summary>Allocates the lowest free region (jemalloc's <c>bitmap_sfu</c>).</summary>
    /// <returns>The region index, or -1 when the bitmap is full.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int FindFirstAndSet()
    {
        // The padding is set, so the first clear bit found is always a real region.
        for (int word = 0; word < WordCount; word++)
        {
            ulong free = ~_words[word];
            if (free != 0)
            {
                int bit = BitOperations.TrailingZeroCount(free);
                _words[word] |= 1UL << bit;
                return (word << 6) | bit;
            }
        }

        return -1;
    }

    /// <summary>Finds the lowest free region at or after <paramref name="from"/> without allocating it (jemalloc's <c>bitmap_ffu</c>).</summary>
    /// <param name="from">The first region index to consider, 0 to <see cref="MaxBits"/>.</param>
    /// <returns>The region index, or -1 when every region from there on is allocated.</returns>
    public readonly int FindFirstUnset(int from = 0)
    {
        Debug.Assert((uint)from <= MaxBits);
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
    /// <param name="bit">A region index below the region count.</param>
    public void Set(int bit)
    {
        Debug.Assert(!IsSet(bit), "The region is already allocated.");
        _words[bit >> 6] |= 1UL << bit;
    }

    /// <summary>Marks region <paramref name="bit"/> free; it must be allocated.</summary>
    /// <param name="bit">A region index below the region count.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Unset(int bit)
    {
        Debug.Assert(IsSet(bit), "The region is already free (double free).");
        _words[bit >> 6] &= ~(1UL << bit);
    }

    /// <summary>Marks region <paramref name="bit"/> free if it is allocated, for callers that check frees (double-free detection).</summary>
    /// <param name="bit">A region index; the caller checks it against the region count, since padding bits read as allocated.</param>
    /// <returns>False when the region was already free or <paramref name="bit"/> is outside 0 to <see cref="MaxBits"/> - 1; nothing changes then.</returns>
    public bool TryUnset(int bit)
    {
        if ((uint)bit >= MaxBits || !IsSet(bit))
        {
            return false;
        }

        _words[bit >> 6] &= ~(1UL << bit);
        return true;
    }

    /// <summary>Counts the allocated regions among the first <paramref name="bitCount"/>, for consistency checks (not a hot path).</summary>
    /// <param name="bitCount">The region count given to <see cref="Init"/>, 0 to <see cref="MaxBits"/>.</param>
    /// <returns>The number of set bits below <paramref name="bitCount"/>.</returns>
    public readonly int CountSet(int bitCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bitCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bitCount, MaxBits);
        int fullWords = bitCount >> 6;
        int count = 0;
        for (int i = 0; i < fullWords; i++)
        {
            count += BitOperations.PopCount(_words[i]);
        }

        int tailBits = bitCount & 63;
        if (tailBits != 0)
        {
            count += BitOperations.PopCount(_words[fullWords] & ((1UL << tailBits) - 1));
        }

        return count;
    }
}
