using System.Diagnostics;
using System.Numerics;

namespace Allocator.Hpa;

/// <summary>
/// Bit operations over a pageslab's page bitmaps (one bit per page, in 64-bit words): find the next
/// set or unset bit, the last set bit below an index, and set, clear or count a range.
/// </summary>
internal static unsafe class PageBitmap
{
    /// <summary>The first index at or above <paramref name="start"/> whose bit equals <paramref name="set"/>, or <paramref name="nbits"/>.</summary>
    public static int FindFirst(ulong* bits, int nbits, int start, bool set)
    {
        if (start >= nbits) return nbits;
        int words = (nbits + 63) >> 6;
        int w = start >> 6;
        ulong word = (set ? bits[w] : ~bits[w]) & (~0UL << (start & 63));
        while (word == 0)
        {
            if (++w >= words) return nbits;
            word = set ? bits[w] : ~bits[w];
        }

        int i = (w << 6) + BitOperations.TrailingZeroCount(word);
        return i < nbits ? i : nbits;
    }

    /// <summary>The highest set index at or below <paramref name="at"/>, or -1.</summary>
    public static int FindLastSet(ulong* bits, int at)
    {
        if (at < 0) return -1;
        int w = at >> 6;
        int shift = 63 - (at & 63);
        ulong word = bits[w] << shift >> shift;
        while (word == 0)
        {
            if (--w < 0) return -1;
            word = bits[w];
        }

        return (w << 6) + 63 - BitOperations.LeadingZeroCount(word);
    }

    /// <summary>Sets <paramref name="count"/> bits from <paramref name="begin"/>.</summary>
    public static void SetRange(ulong* bits, int begin, int count)
    {
        for (int i = begin; i < begin + count; i++) bits[i >> 6] |= 1UL << (i & 63);
    }

    /// <summary>Clears <paramref name="count"/> bits from <paramref name="begin"/>.</summary>
    public static void ClearRange(ulong* bits, int begin, int count)
    {
        for (int i = begin; i < begin + count; i++) bits[i >> 6] &= ~(1UL << (i & 63));
    }

    /// <summary>How many of the <paramref name="count"/> bits from <paramref name="begin"/> are unset.</summary>
    public static int CountUnset(ulong* bits, int begin, int count)
    {
        int unset = 0;
        for (int i = begin; i < begin + count; i++) unset += (int)(~bits[i >> 6] >> (i & 63)) & 1;
        return unset;
    }

    /// <summary>Set bits in the first <paramref name="nbits"/>.</summary>
    public static int PopCount(ulong* bits, int nbits)
    {
        Debug.Assert(nbits % 64 == 0);
        int n = 0;
        for (int w = 0; w < nbits >> 6; w++) n += BitOperations.PopCount(bits[w]);
        return n;
    }

    /// <summary>The length of the longest run of unset bits in the first <paramref name="nbits"/>.</summary>
    public static int LongestUnsetRun(ulong* bits, int nbits)
    {
        int longest = 0;
        int i = FindFirst(bits, nbits, 0, set: false);
        while (i < nbits)
        {
            int end = FindFirst(bits, nbits, i, set: true);
            if (end - i > longest) longest = end - i;
            i = FindFirst(bits, nbits, end, set: false);
        }

        return longest;
    }
}
