namespace Allocator.Os;

/// <summary>
/// Test seam of <see cref="Pages"/>: decides where the kernel would place a mapping, so that
/// tests with the default hooks get the same addresses, and so the same adjacency, the same
/// splits and merges and the same OS calls, in every run of a workload.
/// </summary>
internal unsafe interface IPagePlacement
{
    /// <summary>
    /// Maps <paramref name="size"/> bytes at <paramref name="hint"/> when that is free, elsewhere
    /// otherwise (as mmap without MAP_FIXED), readable and writable when <paramref name="accessible"/>;
    /// false when this call is not one it places (another thread's, say), so the kernel places it.
    /// <paramref name="address"/> is null when the mapping failed.
    /// </summary>
    bool TryMap(void* hint, nuint size, bool accessible, out void* address);

    /// <summary>Unmaps a range it placed; false when the range is not its own, so the kernel unmaps it.</summary>
    bool TryUnmap(void* address, nuint size, out bool unmapped);
}
