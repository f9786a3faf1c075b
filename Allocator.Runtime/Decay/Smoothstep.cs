using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Allocator.Decay;

/// <summary>
/// The decay curve: how much of the pages dirtied k epochs ago may still be kept (the
/// "smoother" step, y = 6x^5 - 15x^4 + 10x^3: flat at both ends, so purging starts and ends gently).
/// </summary>
/// <remarks>
/// <para>
/// <c>Table[i]</c> is y at x = (i + 1) / <see cref="Steps"/>, in fixed point with
/// <see cref="FractionBits"/> fraction bits, rounded down: floor(2^24 * y). The constants were
/// computed once with exact rational arithmetic (y truncated to 15 decimal digits, as jemalloc's
/// generator does with <c>dc</c>; for x with three decimals that truncation is exact) and are
/// baked in as constants, so the curve cannot drift with floating point.
/// A test recomputes them with <see cref="System.Numerics.BigInteger"/>.
/// </para>
/// <para>
/// The curve is flat at both ends: pages are kept almost untouched just after they were dirtied,
/// purged fastest half-way through the decay time, and the last few trickle out slowly.
/// </para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Advanced)]
internal static class Smoothstep
{
    /// <summary>The number of points on the curve, and of epochs in one decay time.</summary>
    public const int Steps = 200;

    /// <summary>The number of fraction bits of each <see cref="Table"/> entry.</summary>
    public const int FractionBits = 24;

    /// <summary>The fixed-point value of 1.0, which is also <c>Table[Steps - 1]</c>.</summary>
    public const ulong One = 1UL << FractionBits;

    /// <summary>The curve: <c>Table[i]</c> = floor(2^24 * y((i + 1) / 200)).</summary>
    public static ReadOnlySpan<ulong> Table => s_table;

    // An array made once, not a span over the image's data: unoptimized code (Debug builds, a
    // method's first tier) reads such a span through a helper that allocates on every access, and
    // the decay passes that read the curve must allocate nothing.
    private static readonly ulong[] s_table =
    [
        20, 165, 553, 1302, 2524, 4328, 6820, 10103,  // 0..7
        14274, 19430, 25660, 33055, 41698, 51672, 63055, 75921,  // 8..15
        90343, 106389, 124124, 143612, 164912, 188080, 213169, 240231,  // 16..23
        269312, 300456, 333707, 369103, 406680, 446473, 488511, 532823,  // 24..31
        579435, 628369, 679647, 733287, 789304, 847710, 908518, 971736,  // 32..39
        1037369, 1105422, 1175896, 1248791, 1324104, 1401831, 1481964, 1564495,  // 40..47
        1649412, 1736704, 1826354, 1918347, 2012664, 2109285, 2208187, 2309347,  // 48..55
        2412739, 2518336, 2626109, 2736028, 2848061, 2962174, 3078332, 3196500,  // 56..63
        3316639, 3438709, 3562672, 3688485, 3816104, 3945487, 4076587, 4209358,  // 64..71
        4343752, 4479721, 4617216, 4756184, 4896576, 5038338, 5181417, 5325759,  // 72..79
        5471309, 5618011, 5765809, 5914645, 6064462, 6215202, 6366805, 6519212,  // 80..87
        6672363, 6826198, 6980655, 7135675, 7291194, 7447152, 7603485, 7760133,  // 88..95
        7917031, 8074119, 8231332, 8388608, 8545883, 8703096, 8860184, 9017082,  // 96..103
        9173730, 9330063, 9486021, 9641540, 9796560, 9951017, 10104852, 10258003,  // 104..111
        10410410, 10562013, 10712753, 10862570, 11011406, 11159204, 11305906, 11451456,  // 112..119
        11595798, 11738877, 11880639, 12021031, 12160000, 12297494, 12433463, 12567857,  // 120..127
        12700628, 12831728, 12961111, 13088730, 13214543, 13338506, 13460576, 13580715,  // 128..135
        13698883, 13815041, 13929154, 14041187, 14151106, 14258879, 14364476, 14467868,  // 136..143
        14569028, 14667930, 14764551, 14858868, 14950861, 15040512, 15127803, 15212720,  // 144..151
        15295251, 15375384, 15453111, 15528424, 15601319, 15671793, 15739846, 15805479,  // 152..159
        15868697, 15929505, 15987911, 16043928, 16097568, 16148846, 16197780, 16244392,  // 160..167
        16288704, 16330742, 16370535, 16408112, 16443508, 16476759, 16507904, 16536984,  // 168..175
        16564046, 16589135, 16612303, 16633603, 16653091, 16670826, 16686872, 16701294,  // 176..183
        16714160, 16725543, 16735517, 16744160, 16751555, 16757785, 16762941, 16767112,  // 184..191
        16770395, 16772887, 16774691, 16775913, 16776662, 16777050, 16777195, 16777216   // 192..199
    ];

    /// <summary>Returns <c>Table[index]</c> without a bounds check; the caller guarantees 0 &lt;= index &lt; 200.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong At(int index) =>
        Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(s_table), index);
}
