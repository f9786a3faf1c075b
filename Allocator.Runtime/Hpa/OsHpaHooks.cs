using System.Diagnostics;
using Allocator.Os;

namespace Allocator.Hpa;

/// <summary>The hugepage allocator's hooks on the real OS: mmap with 2 MiB alignment, MADV_DONTNEED, MADV_(NO)HUGEPAGE and MADV_COLLAPSE, and the monotonic clock.</summary>
internal sealed unsafe class OsHpaHooks : IHpaHooks
{
    /// <summary>The one instance.</summary>
    public static readonly OsHpaHooks Instance = new();

    private OsHpaHooks()
    {
    }

    /// <inheritdoc/>
    public void* Map(nuint size) => Pages.Map(null, size, HugePage.Size, commit: true);

    /// <inheritdoc/>
    public void Unmap(void* address, nuint size) => Pages.Unmap(address, size);

    /// <inheritdoc/>
    public void Purge(void* address, nuint size) => Pages.PurgeForced(address, size);

    /// <inheritdoc/>
    public bool Hugify(void* address, nuint size, bool collapse)
    {
        if (!Thp.Available || !Pages.AdviseHuge(address, size)) return false;
        // A collapse that fails is left to khugepaged, which collapses MADV_HUGEPAGE ranges in the background.
        if (collapse) Pages.Collapse(address, size);
        return true;
    }

    /// <inheritdoc/>
    public void Dehugify(void* address, nuint size) => Pages.AdviseNoHuge(address, size);

    /// <inheritdoc/>
    public long NowNs() => (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));
}
