using System;
using System.Collections.Generic;
using System.Diagnostics;

namespace Allocator.Profiling;

/// <summary>
/// An arena's allocation sites keyed by stack (jemalloc's bt2gctx table): each distinct stack gets
/// an index once, and per site the live and cumulative estimates of what its samples stand for.
/// A stack is the return addresses of its frames when <see cref="FrameWalker"/> can read them (the
/// sample then costs a hash lookup), else its names. Sums are fixed point (1/65536 of a block) so
/// that freeing a block subtracts exactly what its sample added, however many samples come and go.
/// The caller holds the profiler's lock.
/// </summary>
internal sealed class SiteTable
{
    /// <summary>Fractional bits of the fixed-point sums.</summary>
    public const int FixedShift = 16;

    // Hash of the return addresses -> the newest site with that hash; sites chain the older ones.
    private readonly Dictionary<ulong, int> _byAddresses = new();
    private readonly Dictionary<string[], int> _byNames = new(NamesComparer.Instance);
    private readonly List<Site> _sites = new();

    /// <summary>How many sites have been seen.</summary>
    public int Count => _sites.Count;

    /// <summary>The site at <paramref name="index"/>.</summary>
    public Site this[int index] => _sites[index];

    /// <summary>The hash <see cref="Find"/> and <see cref="Intern(ulong, ReadOnlySpan{nuint}, StackTrace)"/> key on.</summary>
    public static ulong Hash(ReadOnlySpan<nuint> returnAddresses)
    {
        ulong h = (ulong)returnAddresses.Length;
        foreach (nuint a in returnAddresses)
        {
            h = (h ^ a) * 0x9E3779B97F4A7C15UL;
            h ^= h >> 29;
        }

        return h;
    }

    /// <summary>The site of a walked stack, or -1 when it is new.</summary>
    public int Find(ulong hash, ReadOnlySpan<nuint> returnAddresses)
    {
        if (!_byAddresses.TryGetValue(hash, out int index)) return -1;
        for (; index >= 0; index = _sites[index].NextSameHash)
        {
            if (returnAddresses.SequenceEqual(_sites[index].ReturnAddresses)) return index;
        }

        return -1;
    }

    /// <summary>The site of a walked stack, added with its managed <paramref name="trace"/> if new.</summary>
    public int Intern(ulong hash, ReadOnlySpan<nuint> returnAddresses, StackTrace trace)
    {
        int index = Find(hash, returnAddresses);
        if (index >= 0) return index;
        index = _sites.Count;
        var site = new Site { ReturnAddresses = returnAddresses.ToArray(), Trace = trace, NextSameHash = -1 };
        if (_byAddresses.TryGetValue(hash, out int older)) site.NextSameHash = older;
        _byAddresses[hash] = index;
        _sites.Add(site);
        return index;
    }

    /// <summary>The site of a stack known by its names only (no walk on this system), added if new.</summary>
    public int Intern(string[] names)
    {
        if (_byNames.TryGetValue(names, out int index)) return index;
        index = _sites.Count;
        _sites.Add(new Site { Names = names, NextSameHash = -1 });
        _byNames.Add(names, index);
        return index;
    }

    /// <summary>A weight as a fixed-point count of blocks.</summary>
    public static long ToFixed(double weight) => (long)Math.Round(weight * (1 << FixedShift));

    /// <summary>Counts a new sample (fixed-point weight) of <paramref name="usable"/> bytes at a site.</summary>
    public void Add(int index, ulong usable, long weight)
    {
        Site s = _sites[index];
        s.LiveCount += weight;
        s.LiveBytes += (Int128)weight * usable;
        s.AllocatedCount += weight;
        s.AllocatedBytes += (Int128)weight * usable;
        s.LiveSamples++;
    }

    /// <summary>Removes a freed sample.</summary>
    public void Remove(int index, ulong usable, long weight)
    {
        Site s = _sites[index];
        s.LiveCount -= weight;
        s.LiveBytes -= (Int128)weight * usable;
        s.LiveSamples--;
    }

    /// <summary>Forgets every live sample (the arena freed every block at once).</summary>
    public void ClearLive()
    {
        foreach (Site s in _sites)
        {
            s.LiveCount = 0;
            s.LiveBytes = 0;
            s.LiveSamples = 0;
        }
    }

    /// <summary>One site: its stack and fixed-point sums.</summary>
    public sealed class Site
    {
        /// <summary>The walked stack; null for a site known by names only.</summary>
        public nuint[]? ReturnAddresses;

        /// <summary>The managed trace taken when the walked stack was first seen; its names are read late.</summary>
        public StackTrace? Trace;

        /// <summary>Pairs (declaring type, method), innermost first; read from <see cref="Trace"/> on first use.</summary>
        public string[]? Names;

        /// <summary>The next older site whose return addresses have the same hash, or -1.</summary>
        public int NextSameHash;

        public long LiveCount, AllocatedCount, LiveSamples;
        public Int128 LiveBytes, AllocatedBytes;

        /// <summary>The names, read from the trace the first time (a profile is being built).</summary>
        public string[] ResolveNames() => Names ??= StackCapture.Names(Trace!);
    }

    /// <summary>Compares stacks by their names (sites of one stack compiled twice, say by tiering, are one in a profile).</summary>
    public sealed class NamesComparer : IEqualityComparer<string[]>
    {
        public static readonly NamesComparer Instance = new();

        public bool Equals(string[]? x, string[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(string[] stack)
        {
            var hash = new HashCode();
            foreach (string name in stack) hash.Add(name);
            return hash.ToHashCode();
        }
    }
}
