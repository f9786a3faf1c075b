using System.ComponentModel;
using System.Runtime.CompilerServices;
using Allocator.Metadata;

namespace Allocator.Map;

/// <summary>
/// What an rtree leaf word says about one page: the extent, its size class, whether it is a slab
/// or a head, and its state. Packed into one 64-bit word so that a single atomic read or write
/// sees all of it consistently.
/// </summary>
/// <remarks>
/// Layout (jemalloc's compact leaf): bit 0 slab, bit 1 head, bits 2-4 state, bits 7-47 the edata
/// pointer (128-byte aligned, so its low 7 bits are free), bits 48-63 the size index.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Advanced)]
public readonly unsafe struct RtreeContents
{
    internal const ulong PointerMask = ((1UL << 48) - 1) & ~127UL;
    internal const ulong SlabBit = 1, StateMask = 7UL << 2;
    internal const int SizeIndexShift = 48;

    /// <summary>The extent whose page this is, or null.</summary>
    public readonly Edata* Edata;

    /// <summary>Size class index, or <see cref="Allocator.Metadata.Edata.NoSizeIndex"/>.</summary>
    public readonly int SizeIndex;

    /// <summary>The page belongs to a slab.</summary>
    public readonly bool IsSlab;

    /// <summary>The extent starts an original mapping.</summary>
    public readonly bool IsHead;

    /// <summary>The extent's state as the map last recorded it.</summary>
    public readonly ExtentState State;

    /// <summary>Creates contents from their parts.</summary>
    public RtreeContents(Edata* edata, int sizeIndex, bool isSlab, bool isHead, ExtentState state)
    {
        Edata = edata;
        SizeIndex = sizeIndex;
        IsSlab = isSlab;
        IsHead = isHead;
        State = state;
    }

    /// <summary>The word of a page that maps nothing.</summary>
    public const ulong EmptyWord = 0;

    /// <summary>Packs contents into a leaf word.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Encode(in RtreeContents c) =>
        ((ulong)(ushort)c.SizeIndex << SizeIndexShift) | ((ulong)c.Edata & PointerMask) | ((ulong)c.State << 2) |
        (c.IsHead ? 2UL : 0UL) | (c.IsSlab ? 1UL : 0UL);

    /// <summary>Unpacks a leaf word.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static RtreeContents Decode(ulong word)
    {
        // User-space addresses have bit 47 clear on the platforms supported, so no sign extension.
        var edata = (Edata*)(word & PointerMask);
        if (edata == null) return new RtreeContents(null, Allocator.Metadata.Edata.NoSizeIndex, false, false, ExtentState.Active);
        return new RtreeContents(edata, (int)(word >> SizeIndexShift), (word & 1) != 0, (word & 2) != 0, (ExtentState)((word >> 2) & 7));
    }

    /// <summary>
    /// True when the word maps a page of an active slab (slab bit set, state bits zero, which is
    /// <see cref="ExtentState.Active"/>): one mask and compare, for the free path.
    /// Only <see cref="Encode"/> sets the slab bit, always with an edata, so the edata is non-null.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsActiveSlab(ulong word) => (word & (SlabBit | StateMask)) == SlabBit;

    /// <summary>
    /// True when the word maps a page of an active extent that is not a slab (slab and state bits
    /// zero, an edata present): a large block, or a sampled one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsActiveLarge(ulong word) => (word & (SlabBit | StateMask)) == 0 && (word & PointerMask) != 0;

    /// <summary>The edata of a non-empty word.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Edata* EdataOf(ulong word) => (Edata*)(word & PointerMask);

    /// <summary>The size index of a non-empty word.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int SizeIndexOf(ulong word) => (int)(word >> SizeIndexShift);

    /// <summary>The word with only its state bits replaced.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong WithState(ulong word, ExtentState state) => (word & ~(7UL << 2)) | ((ulong)state << 2);
}
