namespace Allocator.Sizing;

public sealed partial class SizeClasses
{
    /// <summary>
    /// A copy in which the small classes of <paramref name="beginSize"/> to
    /// <paramref name="endSize"/> bytes (inclusive) use slabs of <paramref name="pages"/> pages,
    /// as jemalloc's <c>slab_sizes</c> option does (sc_data_update_slab_size). Bigger slabs mean
    /// fewer slab allocations; smaller ones less memory held by half-used slabs.
    /// </summary>
    /// <remarks>
    /// The page count is clamped per class: at least enough pages for one region, at most as
    /// many as keep the slab within <see cref="SlabMaxRegions"/> regions. A slab that is not a
    /// multiple of the region size leaves its tail unused, as in jemalloc.
    /// </remarks>
    /// <param name="beginSize">Smallest region size affected.</param>
    /// <param name="endSize">Largest region size affected.</param>
    /// <param name="pages">The wanted pages per slab.</param>
    public SizeClasses WithSlabPages(ulong beginSize, ulong endSize, int pages)
    {
        var classes = (SizeClass[])_classes.Clone();
        for (int i = 0; i < classes.Length && classes[i].IsBin; i++)
        {
            ulong size = classes[i].Size;
            if (beginSize <= size && size <= endSize)
            {
                classes[i] = classes[i].WithSlabPages(ClampSlabPages(size, pages));
            }
        }

        return new SizeClasses(_lgQuantum, _lgPage, _lgGroup, _lgTinyMin, _table.WithClasses(classes));
    }

    /// <summary>jemalloc's sc_data_update_sc_slab_size bounds for one region size.</summary>
    private int ClampSlabPages(ulong regionSize, int pages)
    {
        ulong min = (regionSize + _pageSize - 1) / _pageSize;

        // Never 0: the bitmap bound is what the smallest class needs for one page.
        ulong max = (ulong)SlabMaxRegions * regionSize / _pageSize;
        ulong wanted = pages < 0 ? 0 : (ulong)pages;
        if (wanted < min)
        {
            return (int)min;
        }

        return (int)(wanted > max ? max : wanted);
    }
}
