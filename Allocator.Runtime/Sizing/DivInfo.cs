using System;

namespace Allocator.Sizing;

/// <summary>
/// Division by a fixed divisor as one multiply and one shift (jemalloc's div_info): a slab turns
/// a pointer's offset into a region index without a hardware divide.
/// </summary>
/// <remarks>
/// <para>
/// The magic is <c>ceil(2^32 / d)</c>. For a multiple <c>n = q * d</c>, <c>n * magic</c> equals
/// <c>q * 2^32 + q * e</c> with <c>e &lt; d</c>, so the shift drops the error as long as
/// <c>n &lt; 2^32</c>. The result is exact only for multiples of the divisor, which is all a
/// slab ever asks (region starts).
/// </para>
/// <para>
/// Whether a number is a multiple at all takes one multiply and one compare with
/// <see cref="MultipleMagic"/>, <c>c = ceil(2^64 / d)</c>: for <c>n = q * d + r</c>, <c>n * c</c>
/// wraps to <c>q * e + r * c</c> with <c>c * d = 2^64 + e</c> and <c>e &lt; d</c>, which is below
/// <c>c</c> when <c>r</c> is 0 and at least <c>c</c> otherwise, as long as
/// <c>d * (n + d) &lt;= 2^64</c> (every <c>n</c> below 2^32 with <c>d</c> below 2^31).
/// </para>
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
        MultipleMagic = ulong.MaxValue / divisor + 1;
    }

    /// <summary>The divisor this was prepared for.</summary>
    public uint Divisor { get; }

    /// <summary><c>ceil(2^32 / Divisor)</c>.</summary>
    public uint Magic { get; }

    /// <summary><c>ceil(2^64 / Divisor)</c>, the constant of <see cref="IsMultiple"/>.</summary>
    public ulong MultipleMagic { get; }

    /// <summary>Whether <paramref name="n"/> is a multiple of the divisor (one multiply, one compare).</summary>
    /// <param name="n">Below 2^32, as a byte offset into a slab is; the divisor is below 2^31.</param>
    public bool IsMultiple(uint n) => n * MultipleMagic < MultipleMagic;

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
