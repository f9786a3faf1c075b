using System;

namespace Allocator.Sizing;

/// <summary>
/// The size classes of one configuration (lg quantum, lg page, lg group, lg tiny minimum), laid
/// out exactly as jemalloc 5.3 does for 64-bit pointers: the class table, the size and page-size
/// index arithmetic and the small bins' slab geometry. Instances are immutable and safe to share between threads.
/// </summary>
/// <remarks>
/// This file and its siblings are plain C# that also compiles for netstandard2.0: the source
/// generator and the analyzers link them, so they compute the very tables the runtime uses.
/// </remarks>
public sealed partial class SizeClasses
{
    /// <summary>jemalloc's default layout for x86-64: 16-byte quantum, 4 KiB pages, 4 classes per doubling, 8-byte tiny class.</summary>
    public static SizeClasses Default { get; } = new SizeClasses(4, 12);

    private readonly SizeClassTable _table;
    private readonly int _lgQuantum;
    private readonly int _lgPage;
    private readonly int _lgGroup;
    private readonly int _lgTinyMin;
    private readonly ulong _pageSize;
    private readonly SizeClass[] _classes;
    private readonly int _count;
    private readonly int _nTiny;
    private readonly int _binCount;
    private readonly int _lookupClassCount;
    private readonly int _pageSizeClassCount;
    private readonly int _lgTinyMaxClass;
    private readonly ulong _lookupMaxClass;
    private readonly ulong _smallMaxClass;
    private readonly ulong _largeMinClass;
    private readonly ulong _largeMaxClass;

    /// <summary>Page-size class index to size, with the sentinel (LargeMaxClass + PageSize) last.</summary>
    private readonly ulong[] _pszTable;

    /// <summary>
    /// Computes the size classes for the given exponents.
    /// </summary>
    /// <param name="lgQuantum">Log2 of the smallest spacing between classes (jemalloc's LG_QUANTUM).</param>
    /// <param name="lgPage">Log2 of the page size, 12 to 16.</param>
    /// <param name="lgGroup">Log2 of the classes per doubling (jemalloc's SC_LG_NGROUP, 2).</param>
    /// <param name="lgTinyMin">Log2 of the smallest class (jemalloc's SC_LG_TINY_MIN, 3).</param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// The combination is rejected by <see cref="TryValidate"/>; the exception names the parameter.
    /// </exception>
    public SizeClasses(int lgQuantum, int lgPage, int lgGroup = 2, int lgTinyMin = 3)
        : this(lgQuantum, lgPage, lgGroup, lgTinyMin, BuildOrThrow(lgQuantum, lgPage, lgGroup, lgTinyMin))
    {
    }

    /// <summary>Takes a built (validated) table; also used for slab-size overrides.</summary>
    private SizeClasses(int lgQuantum, int lgPage, int lgGroup, int lgTinyMin, SizeClassTable t)
    {
        _table = t;
        _lgQuantum = lgQuantum;
        _lgPage = lgPage;
        _lgGroup = lgGroup;
        _lgTinyMin = lgTinyMin;
        _pageSize = 1UL << lgPage;

        _classes = t.Classes;
        _count = t.Classes.Length;
        _nTiny = t.NTiny;
        _binCount = t.BinCount;
        _lookupClassCount = t.LookupClassCount;
        _pageSizeClassCount = t.PageSizeClassCount;
        _lgTinyMaxClass = t.LgTinyMaxClass;
        _lookupMaxClass = t.LookupMaxClass;
        _smallMaxClass = t.SmallMaxClass;
        _largeMinClass = 1UL << t.LgLargeMinClass;
        _largeMaxClass = t.LargeMaxClass;
        _pszTable = BuildPszTable();
        _indexToSize = new ulong[_count];
        for (int i = 0; i < _count; i++)
        {
            _indexToSize[i] = _classes[i].Size;
        }

        _sizeToIndex = BuildSizeToIndex();
        _bins = BuildBins();
    }

    private static SizeClassTable BuildOrThrow(int lgQuantum, int lgPage, int lgGroup, int lgTinyMin)
    {
        if (!TryBuild(lgQuantum, lgPage, lgGroup, lgTinyMin, out SizeClassTable? t, out string? parameterName, out string? error) || t is null)
        {
            throw new ArgumentOutOfRangeException(parameterName, error);
        }

        return t;
    }

    /// <summary>Log2 of the quantum, the smallest spacing between classes.</summary>
    public int LgQuantum => _lgQuantum;

    /// <summary>Log2 of the page size.</summary>
    public int LgPage => _lgPage;

    /// <summary>Log2 of the number of classes per doubling.</summary>
    public int LgGroup => _lgGroup;

    /// <summary>Log2 of the smallest (tiny) class.</summary>
    public int LgTinyMin => _lgTinyMin;

    /// <summary>The quantum in bytes.</summary>
    public ulong Quantum => 1UL << _lgQuantum;

    /// <summary>The page size in bytes.</summary>
    public ulong PageSize => _pageSize;

    /// <summary>
    /// The padding jemalloc adds to large extents when it is cache-oblivious (its default): one
    /// page, so that large allocations can start at a random cache line inside the first page.
    /// <see cref="SizeAlignToUsable(ulong, ulong)"/> assumes this value.
    /// </summary>
    public ulong LargePad => _pageSize;

    /// <summary>Number of size classes (jemalloc's SC_NSIZES); also the "too large" index.</summary>
    public int Count => _count;

    /// <summary>Number of tiny classes, those below the quantum (SC_NTINY).</summary>
    public int NTiny => _nTiny;

    /// <summary>Number of classes in the pseudo group that follows the tiny ones (SC_NPSEUDO).</summary>
    public int NPseudo => 1 << _lgGroup;

    /// <summary>Number of classes in the regular groups (SC_NREGULAR).</summary>
    public int NRegular => _count - _nTiny - NPseudo;

    /// <summary>Number of small classes, each served by a bin (SC_NBINS).</summary>
    public int BinCount => _binCount;

    /// <summary>Number of large classes (jemalloc's nlextents).</summary>
    public int LargeClassCount => _count - _binCount;

    /// <summary>Number of classes the size-to-index lookup table covers (jemalloc's nlbins).</summary>
    public int LookupClassCount => _lookupClassCount;

    /// <summary>Number of page-size classes (SC_NPSIZES); also the "too large" page-size index.</summary>
    public int PageSizeClassCount => _pageSizeClassCount;

    /// <summary>Largest size served by the lookup table (SC_LOOKUP_MAXCLASS).</summary>
    public ulong LookupMaxClass => _lookupMaxClass;

    /// <summary>Largest small class (SC_SMALL_MAXCLASS).</summary>
    public ulong SmallMaxClass => _smallMaxClass;

    /// <summary>Smallest large class (SC_LARGE_MINCLASS).</summary>
    public ulong LargeMinClass => _largeMinClass;

    /// <summary>Largest class of all (SC_LARGE_MAXCLASS); larger requests fail.</summary>
    public ulong LargeMaxClass => _largeMaxClass;

    /// <summary>
    /// Most regions a slab can hold (SC_SLAB_MAXREGS): a page of the smallest class. A slab's
    /// region bitmap needs this many bits.
    /// </summary>
    public int SlabMaxRegions => 1 << (_lgPage - _lgTinyMin);

    /// <summary>The row of class <paramref name="index"/>.</summary>
    /// <param name="index">0 to <see cref="Count"/> - 1.</param>
    public SizeClass this[int index] => _classes[index];

    /// <summary>Page-size class sizes in order, then the sentinel, as jemalloc's sz_boot_pind2sz_tab builds them.</summary>
    private ulong[] BuildPszTable()
    {
        var table = new ulong[_pageSizeClassCount + 1];
        int pind = 0;
        foreach (SizeClass sc in _classes)
        {
            if (sc.IsPageSizeClass)
            {
                table[pind++] = sc.Size;
            }
        }

        table[pind] = _largeMaxClass + _pageSize;
        return table;
    }
}
