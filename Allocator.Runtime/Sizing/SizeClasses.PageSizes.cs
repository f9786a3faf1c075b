using System.Diagnostics;

namespace Allocator.Sizing;

/// <summary>
/// Page-size classes: the size classes that are whole multiples of the page, indexed on their
/// own (jemalloc's pszind). Extent sets bin free extents by them, so they work for any page
/// multiple, not just for class sizes.
/// </summary>
public sealed partial class SizeClasses
{
    /// <summary>
    /// Index of the smallest page-size class at least <paramref name="psz"/> (jemalloc's
    /// sz_psz2ind). Returns <see cref="PageSizeClassCount"/> above <see cref="LargeMaxClass"/>,
    /// and 0 for 0.
    /// </summary>
    /// <param name="psz">A size in bytes, normally a page multiple.</param>
    public int PszToIndex(ulong psz)
    {
        if (psz > _largeMaxClass)
        {
            return _pageSizeClassCount;
        }

        if (psz == 0)
        {
            return 0;
        }

        // Up to 2^(lgPage + lgGroup) the page classes are 1, 2, ..., nGroup pages. Above that,
        // each doubling (x) holds nGroup classes spaced by 2^(x - lgGroup - 1).
        int x = SizeMath.LgCeil(psz);
        int lgFirstGroup = _lgGroup + _lgPage;
        int group = x < lgFirstGroup ? 0 : x - lgFirstGroup;
        int lgDelta = group == 0 ? _lgPage : _lgPage + group - 1;

        // (psz - 1) so that a size exactly on a class maps to that class, not the next.
        int inGroup = (int)(((psz - 1) >> lgDelta) & (ulong)((1 << _lgGroup) - 1));
        return (group << _lgGroup) + inGroup;
    }

    /// <summary>
    /// Size of page-size class <paramref name="pind"/> (jemalloc's sz_pind2sz).
    /// <see cref="PageSizeClassCount"/> is accepted and gives the sentinel <c>LargeMaxClass + PageSize</c>.
    /// </summary>
    /// <param name="pind">0 to <see cref="PageSizeClassCount"/>.</param>
    public ulong IndexToPsz(int pind) => _pszTable[pind];

    /// <summary>
    /// Rounds <paramref name="psz"/> up to its page-size class (jemalloc's sz_psz2u); above
    /// <see cref="LargeMaxClass"/> gives the sentinel <c>LargeMaxClass + PageSize</c>; 0 gives 0.
    /// </summary>
    /// <param name="psz">A size in bytes.</param>
    public ulong PszRoundUp(ulong psz)
    {
        if (psz > _largeMaxClass)
        {
            return _largeMaxClass + _pageSize;
        }

        // lg_floor(2 psz - 1) is lg_ceil(psz); the spacing of that doubling, but never below a page.
        int x = SizeMath.LgFloor((psz << 1) - 1);
        int lgDelta = x < _lgGroup + _lgPage + 1 ? _lgPage : x - _lgGroup - 1;
        ulong mask = (1UL << lgDelta) - 1;
        return (psz + mask) & ~mask;
    }

    /// <summary>
    /// Largest quantized size not above <paramref name="size"/> (jemalloc's sz_psz_quantize_floor):
    /// a page-size class plus <paramref name="largePad"/>. A free extent of this size is filed
    /// under that class, since it can serve any request of that class.
    /// </summary>
    /// <param name="size">A non-zero page multiple, at least <paramref name="largePad"/>.</param>
    /// <param name="largePad">Padding added to large extents: 0 for the extent sets, <see cref="LargePad"/> for large-extent sizes.</param>
    public ulong PszQuantizeFloor(ulong size, ulong largePad)
    {
        Debug.Assert(size > 0 && (size & (_pageSize - 1)) == 0, "size must be a non-zero page multiple");
        Debug.Assert(size >= largePad, "size must include the pad");
        int pind = PszToIndex(size - largePad + 1);

        // Index 0: nothing smaller exists; the size itself is the floor (and page-spaced anyway).
        if (pind == 0)
        {
            return size;
        }

        return _pszTable[pind - 1] + largePad;
    }

    /// <summary>
    /// Smallest quantized size not below <paramref name="size"/> (jemalloc's sz_psz_quantize_ceil).
    /// A request of this size is looked up from this class on, so every extent found is large enough.
    /// </summary>
    /// <param name="size">A non-zero page multiple with <c>size - largePad &lt;= LargeMaxClass</c>.</param>
    /// <param name="largePad">Padding added to large extents, as for <see cref="PszQuantizeFloor"/>.</param>
    public ulong PszQuantizeCeil(ulong size, ulong largePad)
    {
        ulong floor = PszQuantizeFloor(size, largePad);
        if (floor < size)
        {
            // Not on the grid: step to the next class up rather than search below it, where
            // undersized extents share the bin.
            return _pszTable[PszToIndex(floor - largePad + 1)] + largePad;
        }

        return floor;
    }

    /// <summary>The closed-form sz_pind2sz_compute; tests hold it against the table.</summary>
    internal ulong IndexToPszCompute(int pind)
    {
        if (pind == _pageSizeClassCount)
        {
            return _largeMaxClass + _pageSize;
        }

        int group = pind >> _lgGroup;
        int mod = pind & ((1 << _lgGroup) - 1);

        // Group 0 is 1..nGroup pages; group g > 0 starts at nGroup * 2^(g - 1) pages, spaced by 2^(lgPage + g - 1).
        ulong groupSize = group == 0 ? 0 : (1UL << (_lgPage + _lgGroup - 1)) << group;
        int shift = group == 0 ? 1 : group;
        return groupSize + ((ulong)(mod + 1) << (shift + _lgPage - 1));
    }
}
