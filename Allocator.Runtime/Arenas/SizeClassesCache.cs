using System.Collections.Concurrent;
using Allocator.Sizing;

namespace Allocator;

/// <summary>One computed table per parameter set: arenas with the same classes share it.</summary>
internal static class SizeClassesCache
{
    private static readonly ConcurrentDictionary<(int, int, int, int), SizeClasses> s_tables = new();

    public static SizeClasses Get(int lgQuantum, int lgPage, int lgGroup, int lgTinyMin) =>
        s_tables.GetOrAdd((lgQuantum, lgPage, lgGroup, lgTinyMin), k => new SizeClasses(k.Item1, k.Item2, k.Item3, k.Item4));
}
