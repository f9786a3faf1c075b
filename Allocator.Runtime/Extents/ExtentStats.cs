using System.ComponentModel;
using System.Threading;

namespace Allocator.Extents;

/// <summary>
/// Counters of a page allocator shard (jemalloc's pac_stats_t), updated with atomics and read
/// without locks.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Advanced)]
public sealed class ExtentStats
{
    internal long PaMappedBytes;
    internal long AbandonedBytes;
    internal long DirtyPurges, DirtyPurgeCalls, DirtyPurgedPages;
    internal long MuzzyPurges, MuzzyPurgeCalls, MuzzyPurgedPages;
    internal long SlabPurgeCalls, SlabPurgedPages;

    /// <summary>Bytes mapped and not retained (active, dirty and muzzy), base metadata excluded.</summary>
    public long PaMapped => Volatile.Read(ref PaMappedBytes);

    /// <summary>Bytes of address space given up after a hook failure that left no other way out.</summary>
    public long Abandoned => Volatile.Read(ref AbandonedBytes);

    internal void AddMapped(long bytes) => Interlocked.Add(ref PaMappedBytes, bytes);
}
