using System;
using System.Collections.Generic;

namespace Allocator.Profiling;

/// <summary>
/// An arena's allocation sites keyed by stack (jemalloc's bt2gctx table): each distinct stack gets
/// an index once, and per site the live and cumulative estimates of what its samples stand for.
/// Sums are fixed point (1/65536 of a block) so that freeing a block subtracts exactly what its
/// sample added, however many samples come and go. The caller holds the profiler's lock.
/// </summary>
internal sealed class SiteTable
{
    /// <summary>Fractional bits of the fixed-point sums.</summary>
    public const int FixedShift = 16;

    private readonly Dictionary<string[], int> _byStack = new(StackComparer.Instance);
    private readonly List<Site> _sites = new();

    /// <summary>How many sites have been seen.</summary>
    public int Count => _sites.Count;

    /// <summary>The site of <paramref name="stack"/> (from <see cref="StackCapture.Capture"/>), added if new.</summary>
    public int Intern(string[] stack)
    {
        if (_byStack.TryGetValue(stack, out int index)) return index;
        index = _sites.Count;
        _sites.Add(new Site(stack));
        _byStack.Add(stack, index);
        return index;
    }

    /// <summary>The site at <paramref name="index"/>.</summary>
    public Site this[int index] => _sites[index];

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
    public sealed class Site(string[] stack)
    {
        /// <summary>Pairs (declaring type, method), innermost first.</summary>
        public string[] Stack { get; } = stack;

        public long LiveCount, AllocatedCount, LiveSamples;
        public Int128 LiveBytes, AllocatedBytes;
    }

    private sealed class StackComparer : IEqualityComparer<string[]>
    {
        public static readonly StackComparer Instance = new();

        public bool Equals(string[]? x, string[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(string[] stack)
        {
            var hash = new HashCode();
            foreach (string name in stack) hash.Add(name);
            return hash.ToHashCode();
        }
    }
}
