using System.ComponentModel;
using Allocator.Os;

namespace Allocator.Hooks;

/// <summary>
/// The hooks every arena uses unless told otherwise: anonymous private mappings from the OS
/// (jemalloc's default ehooks without DSS).
/// </summary>
/// <remarks>
/// With retain on, <see cref="Dalloc"/> refuses, so address space stays with the arena (decommitted
/// or purged) until the arena is destroyed; this is what lets the arena keep guard pages and
/// original mappings intact. Only these hooks support guard pages.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Advanced)]
public sealed unsafe class DefaultExtentHooks : IExtentHooks
{
    /// <summary>Hooks that keep address space when an extent is freed (jemalloc's opt_retain).</summary>
    public static readonly DefaultExtentHooks Retaining = new(retain: true);

    /// <summary>Hooks that give address space back to the OS when an extent is freed.</summary>
    public static readonly DefaultExtentHooks Unmapping = new(retain: false);

    private DefaultExtentHooks(bool retain) => Retain = retain;

    /// <summary>Whether <see cref="Dalloc"/> refuses so that address space is retained.</summary>
    public bool Retain { get; }

    /// <summary>The instance for the given retain setting.</summary>
    public static DefaultExtentHooks For(bool retain) => retain ? Retaining : Unmapping;

    /// <inheritdoc/>
    public void* Alloc(void* newAddress, nuint size, nuint alignment, ref bool zero, ref bool commit, uint arenaIndex)
    {
        // Overcommitting systems back a mapping lazily anyway, so map it committed.
        bool mapCommitted = commit || Pages.CommitsLazily;
        void* p = Pages.Map(newAddress, size, alignment, mapCommitted);
        if (p == null) return null;
        zero = true;
        commit = mapCommitted;
        return p;
    }

    /// <inheritdoc/>
    public bool Dalloc(void* address, nuint size, bool committed, uint arenaIndex) => !Retain && Pages.Unmap(address, size);

    /// <inheritdoc/>
    public void Destroy(void* address, nuint size, bool committed, uint arenaIndex) => Pages.Unmap(address, size);

    /// <inheritdoc/>
    public bool Commit(void* address, nuint size, nuint offset, nuint length, uint arenaIndex) =>
        Pages.Commit((byte*)address + offset, length);

    /// <inheritdoc/>
    public bool Decommit(void* address, nuint size, nuint offset, nuint length, uint arenaIndex) =>
        Pages.Decommit((byte*)address + offset, length);

    /// <inheritdoc/>
    public bool PurgeLazy(void* address, nuint size, nuint offset, nuint length, uint arenaIndex) =>
        Pages.PurgeLazy((byte*)address + offset, length);

    /// <inheritdoc/>
    public bool PurgeForced(void* address, nuint size, nuint offset, nuint length, uint arenaIndex) =>
        Pages.PurgeForced((byte*)address + offset, length);

    /// <inheritdoc/>
    public bool Split(void* address, nuint size, nuint sizeA, nuint sizeB, bool committed, uint arenaIndex) => true;

    /// <inheritdoc/>
    public bool Merge(void* addressA, nuint sizeA, void* addressB, nuint sizeB, bool committed, uint arenaIndex) => true;
}
