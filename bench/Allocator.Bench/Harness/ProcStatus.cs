using System;
using System.IO;

namespace Allocator.Bench.Harness;

/// <summary>Reads this process's memory figures from /proc/self/status (Linux).</summary>
public static class ProcStatus
{
    /// <summary>Resident set size now, in KiB.</summary>
    public static long RssKiB() => Read("VmRSS:");

    /// <summary>The highest resident set size so far, in KiB.</summary>
    public static long HighWaterKiB() => Read("VmHWM:");

    private static long Read(string key)
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (!line.StartsWith(key, StringComparison.Ordinal))
                continue;
            // The line reads "VmRSS:     123456 kB".
            ReadOnlySpan<char> value = line.AsSpan(key.Length).Trim();
            int space = value.IndexOf(' ');
            return long.Parse(space < 0 ? value : value[..space], System.Globalization.CultureInfo.InvariantCulture);
        }
        throw new InvalidOperationException($"/proc/self/status has no '{key}' line.");
    }
}
