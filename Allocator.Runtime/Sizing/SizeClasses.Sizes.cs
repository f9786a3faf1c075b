using System.Runtime.CompilerServices;

namespace Allocator.Sizing;

/// <summary>
/// Size to size-class index and back: a byte lookup table up to
/// <see cref="LookupMaxClass"/>, bit arithmetic above it.
/// </summary>
public sealed partial class SizeClasses
{
    /// <summary>Class sizes by index (jemalloc's sz_index2size_tab).</summary>
    private readonly ulong[] _indexToSize;

    /// <summary>
    /// Entry <c>j</c> holds the class of sizes in <c>(2^lgTinyMin * (j - 1), 2^lgTinyMin * j]</c>
    /// (jemalloc's sz_size2index_tab); entry 0 is size 0.
    /// </summary>
    private readonly byte[] _sizeToIndex;

    /// <summary>Geometry of the small classes (jemalloc's bin_infos).</summary>
    private readonly BinInfo[] _bins;

    /// <summary>Slab geometry of the small classes, which are the first <see cref="BinCount"/> classes.</summary>
    private BinInfo[] BuildBins()
    {
        var bins = new BinInfo[_binCount];
        for (int i = 0; i < bins.Length; i++)
        {
            bins[i] = new BinInfo(i, _classes[i].Size, _classes[i].SlabPages, _pageSize);
        }

        return bins;
    }

    /// <summary>The size-to-index lookup table, as jemalloc's sz_boot_size2index_tab fills it.</summary>
    private byte[] BuildSizeToIndex()
    {
        // Walk the classes in order and give each slot up to ceil(size / 2^lgTinyMin) the
        // first class that covers it. The classes up to 4096 bytes number at most 97 (16 per
        // doubling over an 8-byte quantum), so their indexes fit a byte whatever the group.
        int length = (int)(_lookupMaxClass >> _lgTinyMin) + 1;
        var table = new byte[length];
        int slot = 0;
        for (int i = 0; i < _count && slot < length; i++)
        {
            ulong last = (_classes[i].Size + (1UL << _lgTinyMin) - 1) >> _lgTinyMin;
            for (; (ulong)slot <= last && slot < length; slot++)
            {
                table[slot] = (byte)i;
            }
        }

        return table;
    }

    /// <summary>Size of class <paramref name="index"/> (jemalloc's sz_index2size).</summary>
    /// <param name="index">0 to <see cref="Count"/> - 1.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong IndexToSize(int index) => _indexToSize[index];

    /// <summary>
    /// Index of the smallest class that holds <paramref name="size"/> bytes (jemalloc's
    /// sz_size2index); 0 for 0, <see cref="Count"/> above <see cref="LargeMaxClass"/>.
    /// </summary>
    /// <param name="size">A request size in bytes.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int SizeToIndex(ulong size)
    {
        if (size <= _lookupMaxClass)
        {
            return _sizeToIndex[(int)((size + (1UL << _lgTinyMin) - 1) >> _lgTinyMin)];
        }

        return SizeToIndexCompute(size);
    }

    /// <summary>
    /// The usable size of a <paramref name="size"/>-byte request: its class size (jemalloc's
    /// sz_s2u). 0 requests get the smallest class; above <see cref="LargeMaxClass"/> gives 0.
    /// </summary>
    /// <param name="size">A request size in bytes.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong RoundUp(ulong size)
    {
        if (size <= _lookupMaxClass)
        {
            return _indexToSize[_sizeToIndex[(int)((size + (1UL << _lgTinyMin) - 1) >> _lgTinyMin)]];
        }

        return RoundUpCompute(size);
    }

    /// <summary>
    /// The usable size of a request for <paramref name="size"/> bytes aligned to
    /// <paramref name="alignment"/> (jemalloc's sz_sa2u), assuming large extents are padded by
    /// <see cref="LargePad"/> (one page, jemalloc's cache-oblivious default). 0 when the request
    /// cannot be served.
    /// </summary>
    /// <param name="size">A request size in bytes.</param>
    /// <param name="alignment">A power of two; anything else gives 0.</param>
    public ulong SizeAlignToUsable(ulong size, ulong alignment) => SizeAlignToUsable(size, alignment, _pageSize);

    /// <summary>
    /// As <see cref="SizeAlignToUsable(ulong, ulong)"/>, with an explicit padding of large extents
    /// (0 when the arena is not cache-oblivious).
    /// </summary>
    /// <param name="size">A request size in bytes.</param>
    /// <param name="alignment">A power of two; anything else gives 0.</param>
    /// <param name="largePad">Bytes added to every large extent.</param>
    public ulong SizeAlignToUsable(ulong size, ulong alignment, ulong largePad)
    {
        if (!SizeMath.IsPow2(alignment))
        {
            return 0;
        }

        // Small: a small class is aligned to its lowest set bit inside a slab, so rounding the
        // size up to the alignment first and then to a class gives an aligned region.
        if (size <= _smallMaxClass && alignment <= _pageSize)
        {
            ulong usize = RoundUp((size + alignment - 1) & ~(alignment - 1));
            if (usize < _largeMinClass)
            {
                return usize;
            }
        }

        // Large. Beware of overflow at every step.
        if (alignment > _largeMaxClass)
        {
            return 0;
        }

        ulong large;
        if (size <= _largeMinClass)
        {
            large = _largeMinClass;
        }
        else
        {
            large = RoundUp(size);
            if (large < size)
            {
                return 0;
            }
        }

        // The large allocator maps usize + pad + (aligned alignment - page) to guarantee the
        // alignment; that mapping size must not wrap.
        ulong alignPages = (alignment + _pageSize - 1) & ~(_pageSize - 1);
        ulong mapping = large + largePad + alignPages - _pageSize;
        if (mapping < large)
        {
            return 0;
        }

        return large;
    }

    /// <summary>A copy of the size-to-index lookup table, for the generator to bake in as data.</summary>
    public byte[] GetSizeToIndexTable() => (byte[])_sizeToIndex.Clone();

    /// <summary>Number of entries in the size-to-index lookup table: <c>(LookupMaxClass &gt;&gt; LgTinyMin) + 1</c>.</summary>
    public int SizeToIndexTableLength => _sizeToIndex.Length;

    /// <summary>Entry <paramref name="slot"/> of the lookup table: the class of sizes up to <c>slot * 2^LgTinyMin</c>.</summary>
    /// <param name="slot">0 to <see cref="SizeToIndexTableLength"/> - 1.</param>
    public byte SizeToIndexTableEntry(int slot) => _sizeToIndex[slot];

    /// <summary>Slab geometry of small class <paramref name="binIndex"/>.</summary>
    /// <param name="binIndex">0 to <see cref="BinCount"/> - 1 (the size class index).</param>
    public BinInfo GetBin(int binIndex) => _bins[binIndex];

    /// <summary>The arithmetic sz_size2index_compute, used above the lookup table; tests also hold the table against it.</summary>
    internal int SizeToIndexCompute(ulong size)
    {
        if (size > _largeMaxClass)
        {
            return _count;
        }

        if (size == 0)
        {
            return 0;
        }

        if (_nTiny != 0 && size <= (1UL << _lgTinyMaxClass))
        {
            int lgCeil = SizeMath.LgCeil(size);
            return lgCeil < _lgTinyMin ? 0 : lgCeil - _lgTinyMin;
        }

        // x = lg_ceil(size): the doubling the size falls in; groups start at 2^(q + g).
        int x = SizeMath.LgFloor((size << 1) - 1);
        int shift = x < _lgGroup + _lgQuantum ? 0 : x - (_lgGroup + _lgQuantum);
        int lgDelta = x < _lgGroup + _lgQuantum + 1 ? _lgQuantum : x - _lgGroup - 1;
        int mod = (int)(((size - 1) >> lgDelta) & (ulong)((1 << _lgGroup) - 1));
        return _nTiny + (shift << _lgGroup) + mod;
    }

    /// <summary>The arithmetic sz_s2u_compute, used above the lookup table; tests also hold the table against it.</summary>
    internal ulong RoundUpCompute(ulong size)
    {
        if (size > _largeMaxClass)
        {
            return 0;
        }

        if (size == 0)
        {
            size = 1;
        }

        if (_nTiny != 0 && size <= (1UL << _lgTinyMaxClass))
        {
            int lgCeil = SizeMath.LgCeil(size);
            return 1UL << (lgCeil < _lgTinyMin ? _lgTinyMin : lgCeil);
        }

        int x = SizeMath.LgFloor((size << 1) - 1);
        int lgDelta = x < _lgGroup + _lgQuantum + 1 ? _lgQuantum : x - _lgGroup - 1;
        ulong mask = (1UL << lgDelta) - 1;
        return (size + mask) & ~mask;
    }

    /// <summary>The closed-form sz_index2size_compute; tests hold the table against it.</summary>
    internal ulong IndexToSizeCompute(int index)
    {
        if (index < _nTiny)
        {
            return 1UL << (_lgTinyMin + index);
        }

        int reduced = index - _nTiny;
        int group = reduced >> _lgGroup;
        int mod = reduced & ((1 << _lgGroup) - 1);
        ulong groupSize = group == 0 ? 0 : (1UL << (_lgQuantum + _lgGroup - 1)) << group;
        int shift = group == 0 ? 1 : group;
        return groupSize + ((ulong)(mod + 1) << (shift + _lgQuantum - 1));
    }
}
