namespace Allocator.Sizing;

/// <summary>
/// Bit helpers for the size-class arithmetic. Written out by hand because these files also
/// compile for netstandard2.0, where <c>BitOperations</c> does not exist.
/// </summary>
internal static class SizeMath
{
    /// <summary>Index of the highest set bit; <paramref name="x"/> must not be zero.</summary>
    internal static int LgFloor(ulong x)
    {
        // Binary search on the bit position: six steps for any 64-bit value.
        int lg = 0;
        if ((x >> 32) != 0) { x >>= 32; lg += 32; }
        if ((x >> 16) != 0) { x >>= 16; lg += 16; }
        if ((x >> 8) != 0) { x >>= 8; lg += 8; }
        if ((x >> 4) != 0) { x >>= 4; lg += 4; }
        if ((x >> 2) != 0) { x >>= 2; lg += 2; }
        if ((x >> 1) != 0) { lg += 1; }
        return lg;
    }

    /// <summary>Smallest <c>k</c> with <c>2^k &gt;= x</c>; 0 for 0 and 1.</summary>
    internal static int LgCeil(ulong x) => x <= 1 ? 0 : LgFloor(x - 1) + 1;

    /// <summary>True for 1, 2, 4, ...; false for zero.</summary>
    internal static bool IsPow2(ulong x) => x != 0 && (x & (x - 1)) == 0;

    /// <summary>Greatest common divisor (Euclid); both arguments non-zero.</summary>
    internal static ulong Gcd(ulong a, ulong b)
    {
        while (b != 0)
        {
            ulong r = a % b;
            a = b;
            b = r;
        }

        return a;
    }
}
