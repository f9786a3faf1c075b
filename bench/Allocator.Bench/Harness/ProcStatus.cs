using System;
using System.IO;

namespace Allocator.Bench.Harness;

/// <summary>Reads this process's memory figures from /proc (Linux).</summary>
public static class ProcStatus
{
    /// <summary>Resident set size now, in KiB.</summary>
    public static long RssKiB() => Read("/proc/self/status", "VmRSS:");

    /// <summary>The highest resident set size so far, in KiB.</summary>
    public static long HighWaterKiB() => Read("/proc/self/status", "VmHWM:");

    /// <summary>Resident pages released with MADV_FREE, in KiB: still counted in RSS, but the
    /// kernel takes them back without writing anything when memory runs short.</summary>
    public static long LazyFreeKiB() => File.Exists("/proc/self/smaps_rollup") ? Read("/proc/self/smaps_rollup", "LazyFree:") : 0;

    private static long Read(string file, string key)
    {
        foreach (string line in File.ReadLines(file))
        {
            if (!line.StartsWith(key, StringComparison.Ordinal))
                continue;
            // The line reads "VmRSS:     123456 kB".
            ReadOnlySpan<char> value = line.AsSpan(key.Length).Trim();
            int space = value.IndexOf(' ');
            return long.Parse(space < 0 ? value : value[..space], System.Globalization.CultureInfo.InvariantCulture);
        }
        throw new InvalidOperationException($"{file} has no '{key}' line.");
    }
}
