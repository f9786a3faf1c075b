using System.Runtime.InteropServices;

namespace Allocator.Profiling;

/// <summary>
/// What the edata of a sampled block remembers (jemalloc's prof_info): its allocation site, its
/// usable size and how many blocks it stands for, so that freeing it removes exactly what its
/// sampling added, from whichever thread it is freed.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ProfileRecord
{
    /// <summary>The site's index in the arena's <see cref="SiteTable"/>.</summary>
    public int Site;

    /// <summary>The usable size of the block the caller asked for (not the page that backs it).</summary>
    public ulong UsableSize;

    /// <summary>The blocks this sample stands for, 1/p for a sampling probability p.</summary>
    public double Weight;
}
