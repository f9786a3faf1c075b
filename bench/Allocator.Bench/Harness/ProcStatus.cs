using System;
using System.IO;
using System.Runtime.InteropServices;

namespace Allocator.Bench.Harness;

/// <summary>Reads this process's memory figures from /proc (Linux).</summary>
public static partial class ProcStatus
{
    /// <summary>
    /// Gives back to the OS what glibc's malloc holds free in all its arenas. The .NET runtime's
    /// JIT compiles through malloc on its own threads and frees it again, and glibc keeps each
    /// thread arena's freed pages resident; a C program under /usr/bin/time has no JIT, so the
    /// suite trims before the timed run. False where glibc's malloc_trim is missing.
    /// </summary>
    public static bool TrimMalloc()
    {
        try
        {
            MallocTrim(0);
            return true;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
        catch (DllNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

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
