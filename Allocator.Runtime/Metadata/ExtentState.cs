namespace Allocator.Metadata;

/// <summary>
/// Where an extent is in its life. Stored both in <see cref="Edata"/> and in the extent's rtree
/// leaf words (three bits), and kept equal in both.
/// </summary>
public enum ExtentState : byte
{
    /// <summary>In use by an allocation or slab, or held by a thread in the middle of an operation.</summary>
    Active = 0,

    /// <summary>Free in the dirty cache: pages still committed and touched.</summary>
    Dirty = 1,

    /// <summary>Free in the muzzy cache: lazily purged.</summary>
    Muzzy = 2,

    /// <summary>Free in the retained cache: purged or decommitted, address space kept.</summary>
    Retained = 3,

    /// <summary>Marker: every value from here on is in transition.</summary>
    Transition = 4,

    /// <summary>Claimed as a neighbor by a thread that is about to merge it (or release it).</summary>
    Merging = 5,
}
