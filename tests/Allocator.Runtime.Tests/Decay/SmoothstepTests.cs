using System;
using System.Numerics;
using Allocator.Decay;

namespace Allocator.Tests.Decay;

// Ports test/unit/smoothstep.c, plus an exact recomputation of the embedded table.
public sealed class SmoothstepTests
{
    private static ReadOnlySpan<ulong> H => Smoothstep.Table;

    [Fact]
    public void Table_matches_exact_recomputation()
    {
        // y = 6x^5 - 15x^4 + 10x^3 at x = n / 200, as a fraction over 200^5; truncate y to 15
        // decimal digits (what dc's scale does), then h = floor(2^24 * y).
        BigInteger d = BigInteger.Pow(200, 5);
        BigInteger decimals = BigInteger.Pow(10, 15);
        Assert.Equal(Smoothstep.Steps, H.Length);
        for (int i = 0; i < Smoothstep.Steps; i++)
        {
            BigInteger n = i + 1;
            BigInteger yNumerator = (6 * BigInteger.Pow(n, 5)) - (15 * 200 * BigInteger.Pow(n, 4)) + (10 * 200 * 200 * BigInteger.Pow(n, 3));
            BigInteger yTruncated = yNumerator * decimals / d;
            BigInteger h = (yTruncated << Smoothstep.FractionBits) / decimals;
            Assert.True((ulong)h == H[i], $"h[{i}]: table {H[i]}, exact {h}");
        }
    }

    [Fact]
    public void Sum_is_within_the_rounding_bound()
    {
        // The exact curve integrates to 2^23 * 201 over these points; each entry rounds down by < 1.
        ulong sum = 0;
        foreach (ulong h in H)
        {
            sum += h;
        }

        ulong max = (1UL << (Smoothstep.FractionBits - 1)) * (Smoothstep.Steps + 1);
        Assert.InRange(sum, max - Smoothstep.Steps, max);
    }

    [Fact]
    public void Table_is_monotonic_and_ends_at_one()
    {
        for (int i = 1; i < Smoothstep.Steps; i++)
        {
            Assert.True(H[i] >= H[i - 1], $"h[{i}] < h[{i - 1}]");
        }

        Assert.Equal(1UL << 24, H[199]);
        Assert.Equal(Smoothstep.One, H[Smoothstep.Steps - 1]);
        Assert.Equal(1UL << 23, H[99]);
    }

    [Fact]
    public void Slope_rises_on_the_first_half_and_falls_on_the_second()
    {
        // First half (including the middle point of an odd count), from h(0) = 0.
        ulong previous = 0;
        ulong previousDelta = 0;
        for (int i = 0; i < (Smoothstep.Steps / 2) + (Smoothstep.Steps % 2); i++)
        {
            ulong delta = H[i] - previous;
            Assert.True(delta >= previousDelta, $"slope fell at i = {i}");
            previous = H[i];
            previousDelta = delta;
        }

        // Second half walked backward from 1.0: the steps must grow toward the middle.
        previous = Smoothstep.One;
        previousDelta = 0;
        for (int i = Smoothstep.Steps - 1; i >= Smoothstep.Steps / 2; i--)
        {
            ulong delta = previous - H[i];
            Assert.True(delta >= previousDelta, $"slope rose at i = {i}");
            previous = H[i];
            previousDelta = delta;
        }
    }
}
