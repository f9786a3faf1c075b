using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Allocator.Metadata;

/// <summary>
/// The metadata of one extent (jemalloc's edata_t): a contiguous, page-aligned range of address
/// space. Lives in native memory from <see cref="Base"/>, 128 bytes, 128-byte aligned, so that a
/// pointer to it packs into an rtree leaf word with seven spare low bits.
/// </summary>
/// <remarks>
/// Two unions keep it at 128 bytes as in jemalloc: the heap links (free-extent bins, non-full slabs)
/// share space with the list links of active extents, and the LRU links of free extents share space
/// with a slab's region bitmap.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Advanced)]
[StructLayout(LayoutKind.Explicit, Size = 128)]
public unsafe struct Edata
{
    /// <summary>Size index meaning "no size class" (not active, or not registered with one): the largest value of its ten bits.</summary>
    public const int NoSizeIndex = (1 << SizeIndexBits) - 1;

    // Ten bits hold the index of every configuration SizeClasses accepts (at most 911 classes, with
    // 16 classes per doubling and an 8-byte quantum) and leave one value for NoSizeIndex.
    private const int SizeIndexBits = 10;

    /// <summary>Arena index meaning "owned by no arena".</summary>
    public const uint NoArena = 0xFFF;

    private const int ArenaBits = 12, SlabShift = 12, CommittedShift = 13, PaiShift = 14, ZeroedShift = 15;
    private const int GuardedShift = 16, StateShift = 17, SizeIndexShift = 20, FreeShift = 30, BinShardShift = 40, HeadShift = 46;
    private const int ProfiledShift = 47;

    [FieldOffset(0)] private ulong _bits;

    // The top byte of _bits (bits 56-63 on the little-endian platforms supported), a byte of its own
    // so that the thread cache marks and clears it with one store, no read-modify-write of the word.
    [FieldOffset(7)] private byte _inThreadCache;
    [FieldOffset(8)] private byte* _address;
    [FieldOffset(16)] private nuint _size;

    /// <summary>Extent serial number: lower is older. Split keeps it, merge takes the minimum.</summary>
    [FieldOffset(24)] public ulong SerialNumber;

    /// <summary>Serial number of the metadata block itself (orders reuse in the edata cache).</summary>
    [FieldOffset(32)] public ulong Esn;

    [FieldOffset(40)] internal Edata* HeapChild;
    [FieldOffset(48)] internal Edata* HeapNext;
    [FieldOffset(56)] internal Edata* HeapPrev;
    [FieldOffset(48)] internal Edata* ListNext;
    [FieldOffset(56)] internal Edata* ListPrev;

    [FieldOffset(64)] internal Edata* LruNext;
    [FieldOffset(72)] internal Edata* LruPrev;

    /// <summary>Which regions of a slab are allocated; shares space with the LRU links, which only free extents use.</summary>
    [FieldOffset(64)] internal SlabBitmap SlabBitmap;

    /// <summary>A sampled block's profile record; shares space with the bitmap and the LRU links, which a sampled (active, non-slab) extent does not use.</summary>
    [FieldOffset(64)] internal Profiling.ProfileRecord Profile;

    /// <summary>First usable byte (after the left guard page of a two-sided guarded extent).</summary>
    public readonly void* Address => _address;

    /// <summary>Usable size in bytes, a page multiple.</summary>
    public readonly nuint Size => _size;

    /// <summary>The page-aligned start of the extent.</summary>
    public readonly void* Base => (void*)((nuint)_address & ~(Os.Pages.PageSize - 1));

    /// <summary>One past the last byte.</summary>
    public readonly void* Past => (byte*)Base + _size;

    /// <summary>Index of the owning arena, or <see cref="NoArena"/>.</summary>
    public uint ArenaIndex { readonly get => (uint)(_bits & ((1UL << ArenaBits) - 1)); internal set => SetField(0, ArenaBits, value); }

    /// <summary>Backs a slab of small regions.</summary>
    public bool IsSlab { readonly get => GetFlag(SlabShift); internal set => SetFlag(SlabShift, value); }

    /// <summary>Physical memory is committed.</summary>
    public bool IsCommitted { readonly get => GetFlag(CommittedShift); internal set => SetFlag(CommittedShift, value); }

    /// <summary>Served by the hugepage allocator rather than the classic one.</summary>
    public bool IsHugePageAllocated { readonly get => GetFlag(PaiShift); internal set => SetFlag(PaiShift, value); }

    /// <summary>Known to read as zero.</summary>
    public bool IsZeroed { readonly get => GetFlag(ZeroedShift); internal set => SetFlag(ZeroedShift, value); }

    /// <summary>Has guard pages outside [Address, Address + Size).</summary>
    public bool IsGuarded { readonly get => GetFlag(GuardedShift); internal set => SetFlag(GuardedShift, value); }

    /// <summary>The extent's state; change it only through the extent map, which keeps the rtree equal.</summary>
    public ExtentState State { readonly get => (ExtentState)((_bits >> StateShift) & 7); internal set => SetField(StateShift, 3, (uint)value); }

    /// <summary>Size class index of the allocation it backs, or <see cref="NoSizeIndex"/>.</summary>
    public int SizeIndex { readonly get => (int)((_bits >> SizeIndexShift) & NoSizeIndex); internal set => SetField(SizeIndexShift, SizeIndexBits, (uint)value); }

    /// <summary>Free regions (slabs only).</summary>
    public int FreeRegions { readonly get => (int)((_bits >> FreeShift) & 0x3FF); internal set => SetField(FreeShift, 10, (uint)value); }

    /// <summary>Bin shard (slabs only).</summary>
    public int BinShard { readonly get => (int)((_bits >> BinShardShift) & 0x3F); internal set => SetField(BinShardShift, 6, (uint)value); }

    /// <summary>A large extent sitting in a thread cache: set on its free, cleared when it leaves the cache, so a second free is caught.</summary>
    internal bool IsInThreadCache { readonly get => _inThreadCache != 0; set => _inThreadCache = value ? (byte)1 : (byte)0; }

    /// <summary>Starts an original mapping: never merged with the extent below it.</summary>
    public bool IsHead { readonly get => GetFlag(HeadShift); internal set => SetFlag(HeadShift, value); }

    /// <summary>Backs one sampled block whose <see cref="Profile"/> record is valid (set only while the extent is active).</summary>
    internal bool IsProfiled { readonly get => GetFlag(ProfiledShift); set => SetFlag(ProfiledShift, value); }

    /// <summary>Sets every field of a fresh or recycled edata, as jemalloc's edata_init (guarded is always cleared).</summary>
    internal void Init(uint arenaIndex, void* address, nuint size, bool slab, int sizeIndex, ulong serialNumber,
        ExtentState state, bool zeroed, bool committed, bool isHead)
    {
        ulong esn = Esn;
        this = default;
        Esn = esn;
        _address = (byte*)address;
        _size = size;
        SerialNumber = serialNumber;
        ArenaIndex = arenaIndex;
        IsSlab = slab;
        SizeIndex = sizeIndex;
        State = state;
        IsZeroed = zeroed;
        IsCommitted = committed;
        IsHead = isHead;
    }

    internal void SetAddress(void* address) => _address = (byte*)address;

    internal void SetSize(nuint size) => _size = size;

    /// <summary>Orders by (serial number, address): first fit prefers older, then lower extents.</summary>
    internal static int CompareSerialThenAddress(Edata* a, Edata* b)
    {
        int c = a->SerialNumber.CompareTo(b->SerialNumber);
        return c != 0 ? c : ((nuint)a->_address).CompareTo((nuint)b->_address);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly bool GetFlag(int shift) => ((_bits >> shift) & 1) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SetFlag(int shift, bool value) => _bits = value ? _bits | (1UL << shift) : _bits & ~(1UL << shift);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SetField(int shift, int width, uint value)
    {
        ulong mask = ((1UL << width) - 1) << shift;
        _bits = (_bits & ~mask) | (((ulong)value << shift) & mask);
    }
}
