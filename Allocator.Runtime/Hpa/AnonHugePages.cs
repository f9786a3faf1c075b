using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace Allocator.Hpa;

/// <summary>
/// The bytes the kernel really backs with huge pages in given address ranges: the AnonHugePages
/// figures of /proc/self/smaps. A mapping that also holds memory outside the ranges (eden, another
/// arena's slabs) is counted in proportion to its overlap, and never above it. Reading smaps is
/// expensive: stats only.
/// </summary>
internal static class AnonHugePages
{
    /// <summary>Bytes backed by huge pages in <paramref name="ranges"/> (start, length); 0 where smaps cannot be read.</summary>
    public static long Measure(IReadOnlyList<(nuint Start, nuint Length)> ranges)
    {
        if (ranges.Count == 0 || !OperatingSystem.IsLinux()) return 0;
        try
        {
            return Sum(File.ReadLines("/proc/self/smaps"), ranges);
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>The same over smaps text given line by line.</summary>
    public static long Sum(IEnumerable<string> smaps, IReadOnlyList<(nuint Start, nuint Length)> ranges)
    {
        long total = 0;
        ulong vmaStart = 0, vmaEnd = 0;
        foreach (string line in smaps)
        {
            int dash = line.IndexOf('-');
            int space = line.IndexOf(' ');
            if (dash > 0 && space > dash && IsHex(line.AsSpan(0, dash)))
            {
                vmaStart = ulong.Parse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                vmaEnd = ulong.Parse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                continue;
            }

            if (!line.StartsWith("AnonHugePages:", StringComparison.Ordinal)) continue;
            long kb = long.Parse(line.AsSpan(14).Trim().TrimEnd("kB").Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture);
            if (kb == 0 || vmaEnd <= vmaStart) continue;
            ulong overlap = 0;
            foreach ((nuint start, nuint length) in ranges)
            {
                ulong lo = Math.Max(vmaStart, start), hi = Math.Min(vmaEnd, (ulong)start + length);
                if (hi > lo) overlap += hi - lo;
            }

            if (overlap == 0) continue;
            double share = (double)overlap / (vmaEnd - vmaStart);
            total += Math.Min((long)(kb * 1024 * share), (long)overlap);
        }

        return total;
    }

    private static bool IsHex(ReadOnlySpan<char> s)
    {
        foreach (char c in s)
        {
            if (!char.IsAsciiHexDigit(c)) return false;
        }

        return s.Length > 0;
    }
}
