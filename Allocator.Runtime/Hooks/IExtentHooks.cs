using System.ComponentModel;

namespace Allocator.Hooks;

/// <summary>
/// The nine operations through which an arena obtains and returns address space (jemalloc's
/// <c>extent_hooks_t</c>). Implement it to back arenas with huge pages, files or shared memory.
/// </summary>
/// <remarks>
/// Every method that returns <see cref="bool"/> returns <see langword="true"/> when it did the work
/// and <see langword="false"/> when it refused or failed; a refusal is permanent for that call and
/// the allocator falls back (for example, a refused <see cref="Dalloc"/> keeps the extent retained).
/// Offsets and lengths are relative to <c>addr</c>. Hooks run outside the thread-cache fast path,
/// sometimes with an extent-cache lock held: they must not call back into the arena.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Advanced)]
public unsafe interface IExtentHooks
{
    /// <summary>
    /// Maps <paramref name="size"/> bytes (a page multiple) aligned to <paramref name="alignment"/>
    /// (a power of two, at least a page). When <paramref name="newAddress"/> is not null the mapping
    /// must start exactly there, or the call fails. On input <paramref name="zero"/> and
    /// <paramref name="commit"/> say what the caller requires; on success they say what the memory is.
    /// </summary>
    /// <returns>The mapping, or null when no memory could be had.</returns>
    void* Alloc(void* newAddress, nuint size, nuint alignment, ref bool zero, ref bool commit, uint arenaIndex);

    /// <summary>Unmaps an extent. Returning false opts out: the allocator keeps it as retained address space.</summary>
    bool Dalloc(void* address, nuint size, bool committed, uint arenaIndex);

    /// <summary>Unmaps an extent unconditionally, when its arena is destroyed.</summary>
    void Destroy(void* address, nuint size, bool committed, uint arenaIndex);

    /// <summary>Backs <c>[offset, offset + length)</c> with zeroed physical memory.</summary>
    bool Commit(void* address, nuint size, nuint offset, nuint length, uint arenaIndex);

    /// <summary>Releases the physical memory of <c>[offset, offset + length)</c>, keeping the address space.</summary>
    bool Decommit(void* address, nuint size, nuint offset, nuint length, uint arenaIndex);

    /// <summary>Tells the OS the pages may be reclaimed lazily (MADV_FREE); their contents become indeterminate.</summary>
    bool PurgeLazy(void* address, nuint size, nuint offset, nuint length, uint arenaIndex);

    /// <summary>Discards the pages now (MADV_DONTNEED); they read back as zero.</summary>
    bool PurgeForced(void* address, nuint size, nuint offset, nuint length, uint arenaIndex);

    /// <summary>Agrees to treat <c>[address, address + sizeA)</c> and the <paramref name="sizeB"/> bytes after it as two extents.</summary>
    bool Split(void* address, nuint size, nuint sizeA, nuint sizeB, bool committed, uint arenaIndex);

    /// <summary>Agrees to treat two adjacent extents as one. Never called across the start of an original mapping.</summary>
    bool Merge(void* addressA, nuint sizeA, void* addressB, nuint sizeB, bool committed, uint arenaIndex);
}
