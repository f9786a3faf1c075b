using System;
using System.IO;

namespace Allocator.Hpa;

/// <summary>The system's transparent huge page mode (/sys/kernel/mm/transparent_hugepage/enabled).</summary>
internal enum ThpMode
{
    /// <summary>No such file, or contents not understood: no huge pages.</summary>
    Absent,

    /// <summary>Huge pages for no mapping.</summary>
    Never,

    /// <summary>Huge pages for MADV_HUGEPAGE ranges only.</summary>
    Madvise,

    /// <summary>Huge pages for all anonymous memory.</summary>
    Always,
}

/// <summary>Reads the <see cref="ThpMode"/> once per process.</summary>
internal static class Thp
{
    private static readonly Lazy<ThpMode> s_mode = new(Read);

    /// <summary>The mode when the process first asked.</summary>
    public static ThpMode Mode => s_mode.Value;

    /// <summary>Whether MADV_HUGEPAGE ranges can get huge pages.</summary>
    public static bool Available => Mode is ThpMode.Madvise or ThpMode.Always;

    /// <summary>The mode named in brackets in <paramref name="text"/> ("always [madvise] never"), else absent.</summary>
    public static ThpMode Parse(string text)
    {
        int open = text.IndexOf('['), close = text.IndexOf(']');
        if (open < 0 || close < open) return ThpMode.Absent;
        return text.Substring(open + 1, close - open - 1) switch
        {
            "always" => ThpMode.Always,
            "madvise" => ThpMode.Madvise,
            "never" => ThpMode.Never,
            _ => ThpMode.Absent,
        };
    }

    private static ThpMode Read()
    {
        if (!OperatingSystem.IsLinux()) return ThpMode.Absent;
        try
        {
            return Parse(File.ReadAllText("/sys/kernel/mm/transparent_hugepage/enabled"));
        }
        catch (IOException)
        {
            return ThpMode.Absent;
        }
        catch (UnauthorizedAccessException)
        {
            return ThpMode.Absent;
        }
    }
}
