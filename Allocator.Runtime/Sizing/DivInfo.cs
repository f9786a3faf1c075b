using System;

namespace Allocator.Sizing;

/// <summary>
/// Division by a fixed divisor as one multiply and one shift (jemalloc's div_info): a slab turns
/// a pointer's offset into a region index without a hardware divide.
/// </summary>
/// <remarks>
/// The magic is <c>ceil(2^32 / d)</c>. For a multiple <c>n = q * d</c>, <c>n * magic</c> equals
/// <c>q * 2^32 + q * e</c> with <c>e &lt; d</c>, so the shift drops the error as long as
/// <c>n &lt; 2^32</c>. The result is exact only for multiples of the divisor, which is all a
/// slab ever asks (region starts).
/// </remarks>
public readonly struct DivInfo : IEquatable<DivInfo>
{
    /// <summary>Prepares division by <paramref name="divisor"/>.</summary>
    /// <param name="divisor">At least 2 (for 1 the magic would be 2^32, which does not fit).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="divisor"/> is 0 or 1.</exception>
    public DivInfo(uint divisor)
    {
        if (divisor < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(divisor), "The divisor must be at least 2.");
        }

        const ulong twoTo32 = 1UL << 32;
        ulong magic = twoTo32 / divisor;

        // Round the quotient up unless the divisor is a power of two (then it is exact).
        if (twoTo32 % divisor != 0)
        {
            magic++;
        }

        Magic = (uint)magic;
        Divisor = divisor;
    }

    /// <summary>The divisor this was prepared for.</summary>
    public uint Divisor { get; }

    /// <summary><c>ceil(2^32 / Divisor)</c>.</summary>
    public uint Magic { get; }

    /// <summary><c>n / Divisor</c> for a multiple <paramref name="n"/> of the divisor.</summary>
    /// <param name="n">A multiple of <see cref="Divisor"/>, such as a region's offset in its slab.</param>
    public uint Divide(uint n) => (uint)(((ulong)n * Magic) >> 32);

    /// <inheritdoc/>
    public bool Equals(DivInfo other) => Divisor == other.Divisor;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is DivInfo other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => (int)Divisor;

    /// <summary>Whether both divide by the same divisor.</summary>
    /// <param name="left">The first value.</param>
    /// <param name="right">The second value.</param>
    public static bool operator ==(DivInfo left, DivInfo right) => left.Equals(right);

    /// <summary>Whether the divisors differ.</summary>
    /// <param name="left">The first value.</param>
    /// <param name="right">The second value.</param>
    public static bool operator !=(DivInfo left, DivInfo right) => !left.Equals(right);
}
