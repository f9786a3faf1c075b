using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace Allocator.Tests.Infrastructure;

/// <summary>One line of /proc/self/maps: the range [Start, End), its permissions (such as <c>rw-p</c>) and its path.</summary>
public readonly record struct MapsRegion(nuint Start, nuint End, string Permissions, string Path)
{
    public nuint Size => End - Start;

    /// <summary>PROT_NONE private mapping: a guard page, a reservation, or a decommitted range.</summary>
    public bool IsProtNone => Permissions == "---p";

    public bool Contains(nuint address) => address >= Start && address < End;
}

/// <summary>
/// Reads the kernel's view of this process's mappings (Linux only). The kernel merges adjacent
/// anonymous mappings with equal permissions into one line, so a region found for an address may
/// be larger than the mapping the test made; compare permissions and coverage, not exact bounds.
/// </summary>
public static unsafe class ProcMaps
{
    private const string Path = "/proc/self/maps";

    public static bool IsSupported => OperatingSystem.IsLinux() && File.Exists(Path);

    /// <summary>Every mapping of the process, lowest first.</summary>
    public static IReadOnlyList<MapsRegion> Read()
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("/proc/self/maps exists only on Linux.");
        var regions = new List<MapsRegion>();
        // One read of the whole file: the kernel builds it per read call, so reading line by line could see a torn view.
        foreach (string line in File.ReadAllText(Path).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            regions.Add(Parse(line));
        return regions;
    }

    /// <summary>Regions with permissions <c>---p</c> in the whole process (the runtime has some of its own).</summary>
    public static int CountProtNone()
    {
        int n = 0;
        foreach (MapsRegion r in Read())
            if (r.IsProtNone) n++;
        return n;
    }

    /// <summary>
    /// <c>---p</c> regions that overlap [<paramref name="address"/>, +<paramref name="size"/>): immune to what the
    /// runtime maps elsewhere meanwhile (its GC reserves PROT_NONE ranges and commits parts of them at will).
    /// </summary>
    public static int CountProtNone(void* address, nuint size)
    {
        nuint start = (nuint)address, end = start + size;
        int n = 0;
        foreach (MapsRegion r in Read())
            if (r.IsProtNone && r.Start < end && r.End > start) n++;
        return n;
    }

    /// <summary>The region holding <paramref name="address"/>, or null when it is not mapped.</summary>
    public static MapsRegion? FindRegion(void* address)
    {
        foreach (MapsRegion r in Read())
            if (r.Contains((nuint)address)) return r;
        return null;
    }

    /// <summary>The permissions (<c>rw-p</c>, <c>---p</c>, ...) at <paramref name="address"/>, or null when it is not mapped.</summary>
    public static string? PermissionsAt(void* address) => FindRegion(address)?.Permissions;

    /// <summary>Whether any byte of [<paramref name="address"/>, +<paramref name="size"/>) is mapped.</summary>
    public static bool IsAnyMapped(void* address, nuint size) => MappedBytesIn(address, size) != 0;

    /// <summary>How many bytes of [<paramref name="address"/>, +<paramref name="size"/>) are mapped.</summary>
    public static nuint MappedBytesIn(void* address, nuint size)
    {
        nuint start = (nuint)address, end = start + size, covered = 0;
        foreach (MapsRegion r in Read())
        {
            nuint s = r.Start > start ? r.Start : start, e = r.End < end ? r.End : end;
            if (e > s) covered += e - s;
        }

        return covered;
    }

    /// <summary>Bytes of address space mapped by the whole process (the sum of every region's size).</summary>
    public static ulong TotalMappedBytes()
    {
        ulong sum = 0;
        foreach (MapsRegion r in Read()) sum += r.Size;
        return sum;
    }

    // Line format: "start-end perms offset dev inode [path]", addresses in hex without 0x.
    private static MapsRegion Parse(string line)
    {
        string[] f = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
        int dash = f[0].IndexOf('-');
        nuint start = (nuint)ulong.Parse(f[0].AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        nuint end = (nuint)ulong.Parse(f[0].AsSpan(dash + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return new MapsRegion(start, end, f[1], f.Length > 5 ? f[5].Trim() : "");
    }

    /// <summary>
    /// True when no region of /proc/self/maps has exactly the bounds <paramref name="before"/> had:
    /// the mapping is gone, even if the runtime has already mapped something new at those addresses.
    /// </summary>
    public static bool IsGone(MapsRegion before)
    {
        foreach (MapsRegion r in Read())
        {
            if (r.Start == before.Start && r.End == before.End && r.Permissions == before.Permissions) return false;
        }

        return true;
    }
}
