using System;
using System.Runtime.InteropServices;

namespace Allocator.Bench.Sqlite;

/// <summary>This process's CPU time so far, all threads, from getrusage(RUSAGE_SELF) (Linux).</summary>
internal static partial class ResourceUsage
{
    private const int RusageSelf = 0;

    /// <summary>User and system CPU time of the whole process so far.</summary>
    public static (TimeSpan User, TimeSpan System) Self()
    {
        Rusage usage;
        if (GetRusage(RusageSelf, out usage) != 0)
            throw new InvalidOperationException($"getrusage failed: errno {Marshal.GetLastPInvokeError()}");
        return (Microseconds(usage.UserTime), Microseconds(usage.SystemTime));
    }

    private static TimeSpan Microseconds(TimeValue t) => TimeSpan.FromTicks(t.Seconds * TimeSpan.TicksPerSecond + t.Microseconds * 10);

    [LibraryImport("libc", EntryPoint = "getrusage", SetLastError = true)]
    private static partial int GetRusage(int who, out Rusage usage);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeValue
    {
        public long Seconds;
        public long Microseconds;
    }

    // struct rusage on 64-bit Linux: two timevals, then fourteen longs this class does not read.
    [StructLayout(LayoutKind.Sequential, Size = 144)]
    private struct Rusage
    {
        public TimeValue UserTime;
        public TimeValue SystemTime;
    }
}
