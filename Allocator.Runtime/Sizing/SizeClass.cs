namespace Allocator.Sizing;

/// <summary>
/// One row of the size-class table: the class size is <c>2^LgBase + NDelta * 2^LgDelta</c>,
/// the encoding jemalloc's <c>sc_t</c> uses.
/// </summary>
public readonly struct SizeClass
{
    /// <summary>Creates a row; the table builder is the only intended caller.</summary>
    /// <param name="index">Position in the table.</param>
    /// <param name="lgBase">Log2 of the group base.</param>
    /// <param name="lgDelta">Log2 of the spacing inside the group.</param>
    /// <param name="nDelta">Number of spacings above the base.</param>
    /// <param name="isPageSizeClass">Whether the size is a multiple of the page.</param>
    /// <param name="isBin">Whether the class is small (served from slabs).</param>
    /// <param name="slabPages">Pages per slab for a small class, 0 for a large one.</param>
    /// <param name="lgDeltaLookup">The spacing for classes covered by the lookup table, else 0.</param>
    public SizeClass(int index, int lgBase, int lgDelta, int nDelta, bool isPageSizeClass, bool isBin, int slabPages, int lgDeltaLookup)
    {
        Index = index;
        LgBase = lgBase;
        LgDelta = lgDelta;
        NDelta = nDelta;
        IsPageSizeClass = isPageSizeClass;
        IsBin = isBin;
        SlabPages = slabPages;
        LgDeltaLookup = lgDeltaLookup;
    }

    /// <summary>Position of the class in the table (jemalloc's szind).</summary>
    public int Index { get; }

    /// <summary>Log2 of the base of the class's group.</summary>
    public int LgBase { get; }

    /// <summary>Log2 of the spacing between classes of the group.</summary>
    public int LgDelta { get; }

    /// <summary>How many spacings the class lies above its base.</summary>
    public int NDelta { get; }

    /// <summary>The class size in bytes.</summary>
    public ulong Size => (1UL << LgBase) + ((ulong)NDelta << LgDelta);

    /// <summary>True when the size is a multiple of the page (jemalloc's <c>psz</c> flag).</summary>
    public bool IsPageSizeClass { get; }

    /// <summary>True for a small class, served from slabs by a bin (jemalloc's <c>bin</c> flag).</summary>
    public bool IsBin { get; }

    /// <summary>Pages in one slab of this class; 0 for large classes.</summary>
    public int SlabPages { get; }

    /// <summary>The spacing exponent when the size-to-index lookup table covers the class, else 0.</summary>
    public int LgDeltaLookup { get; }

    /// <summary>A copy with another slab page count (used by slab-size overrides).</summary>
    internal SizeClass WithSlabPages(int slabPages) =>
        new SizeClass(Index, LgBase, LgDelta, NDelta, IsPageSizeClass, IsBin, slabPages, LgDeltaLookup);

    /// <inheritdoc/>
    public override string ToString() =>
        Index + ": " + Size + " [" + LgBase + "," + LgDelta + "," + NDelta + "]" + (IsBin ? " slab " + SlabPages + "p" : "") + (IsPageSizeClass ? " psz" : "");
}
