using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Threading;
using Allocator.Hooks;
using Allocator.Os;
using Allocator.Threading;

namespace Allocator.Metadata;

/// <summary>
/// The metadata allocator: native blocks obtained through the hooks, handed
/// out by bumping a cursor, never freed one by one. Everything goes back to the hooks at once
/// when the owner is destroyed.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Advanced)]
public sealed unsafe class Base : IDisposable
{
    /// <summary>Edata structs are this aligned, leaving the low bits of their address for rtree metadata.</summary>
    public const int EdataAlignment = 128;

    private const nuint FirstBlockSize = 64 * 1024;
    private const nuint MaxGrownBlockSize = 4 * 1024 * 1024;

    /// <summary>With <see cref="HugePageBlocks"/>, the blocks mapped before this many stay in small pages.</summary>
    internal const int SmallBlocksBeforeHuge = 3;

    private readonly IExtentHooks _hooks;
    private readonly uint _arenaIndex;
    private readonly RankedLock _lock = new(LockRank.Base);
    private Block* _blocks;
    private nuint _nextBlockSize = FirstBlockSize;
    private nuint _allocated, _mapped, _resident;
    private int _blockCount;
    private int _hugeBlockCount;
    private ulong _edataSerial;
    private bool _disposed;

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct Block
    {
        public Block* Next;
        public nuint Size;
        public byte* Cursor;
        public byte* End;
        public ulong Serial;
        public bool Huge;
    }

    /// <summary>Creates a base that maps its blocks through <paramref name="hooks"/>.</summary>
    public Base(IExtentHooks hooks, uint arenaIndex = uint.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(hooks);
        _hooks = hooks;
        _arenaIndex = arenaIndex;
    }

    /// <summary>
    /// Whether blocks go on transparent huge pages once the base has grown (jemalloc's
    /// metadata_thp=auto): after <see cref="SmallBlocksBeforeHuge"/> blocks, each new block is a
    /// whole number of 2 MiB-aligned huge pages marked MADV_HUGEPAGE, so the edata of a large heap
    /// fault in 2 MiB at a time instead of 4 KiB. A base that stays small never pays for a huge page.
    /// Set it only for blocks from the OS (the default hooks).
    /// </summary>
    internal bool HugePageBlocks { get; init; }

    /// <summary>How many blocks are on huge pages.</summary>
    internal int HugeBlockCount { get { using (_lock.EnterScope()) return _hugeBlockCount; } }

    /// <summary>Bytes handed out, alignment padding excluded.</summary>
    public nuint Allocated { get { using (_lock.EnterScope()) return _allocated; } }

    /// <summary>Bytes of blocks mapped from the hooks.</summary>
    public nuint Mapped { get { using (_lock.EnterScope()) return _mapped; } }

    /// <summary>Bytes of blocks touched so far (block headers and everything below each cursor, rounded to the block's page: 2 MiB for a huge block).</summary>
    public nuint Resident { get { using (_lock.EnterScope()) return _resident; } }

    /// <summary>Test seam: when set, asked before each <see cref="Allocate"/>; true makes that allocation fail (null).</summary>
    internal static Func<bool>? AllocateFaultForTests;

    /// <summary>How many blocks have been mapped.</summary>
    public int BlockCount { get { using (_lock.EnterScope()) return _blockCount; } }

    /// <summary>
    /// Returns <paramref name="size"/> bytes aligned to <paramref name="alignment"/> (a power of two),
    /// zero-filled, or null when the hooks have no memory.
    /// </summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public void* Allocate(nuint size, nuint alignment = 16)
    {
        if (AllocateFaultForTests?.Invoke() == true) return null;
        if (size == 0) throw new ArgumentOutOfRangeException(nameof(size), "A metadata allocation needs at least one byte.");
        if (alignment == 0 || (alignment & (alignment - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "The alignment must be a power of two.");
        using (_lock.EnterScope())
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            // Best fit over the blocks: the one with the least room that still fits, so the remainders
            // of old blocks serve small requests and new blocks stay whole for large ones.
            Block* best = null;
            for (Block* b = _blocks; b != null; b = b->Next)
            {
                if (Fits(b, size, alignment) && (best == null || b->End - b->Cursor < best->End - best->Cursor)) best = b;
            }

            if (best != null) return TryBump(best, size, alignment);
            Block* fresh = MapBlock(size, alignment);
            return fresh == null ? null : TryBump(fresh, size, alignment);
        }
    }

    /// <summary>
    /// Returns a zeroed, 128-byte-aligned block for one <see cref="Edata"/>, with its edata serial
    /// number set (older metadata is reused first by the edata cache).
    /// </summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public Edata* AllocateEdata()
    {
        var e = (Edata*)Allocate((nuint)sizeof(Edata), EdataAlignment);
        if (e != null) e->Esn = Interlocked.Increment(ref _edataSerial);
        return e;
    }

    private static bool Fits(Block* b, nuint size, nuint alignment)
    {
        byte* start = (byte*)(((nuint)b->Cursor + alignment - 1) & ~(alignment - 1));
        return start >= b->Cursor && start <= b->End && (nuint)(b->End - start) >= size;
    }

    private void* TryBump(Block* b, nuint size, nuint alignment)
    {
        if (!Fits(b, size, alignment)) return null;
        byte* start = (byte*)(((nuint)b->Cursor + alignment - 1) & ~(alignment - 1));
        byte* oldTouched = TouchCeiling(b, b->Cursor);
        b->Cursor = start + size;
        byte* newTouched = TouchCeiling(b, b->Cursor);
        if (newTouched > oldTouched) _resident += (nuint)(newTouched - oldTouched);
        _allocated += size;
        return start;
    }

    private Block* MapBlock(nuint size, nuint alignment)
    {
        nuint page = Pages.PageSize;
        nuint header = (nuint)sizeof(Block);
        // The block starts at least page-aligned (or at the alignment, when larger), so the first
        // allocation starts at the header rounded up to the alignment.
        nuint need = ((header + alignment - 1) & ~(alignment - 1)) + size;
        if (need < size) return null;
        nuint blockSize = need > _nextBlockSize ? PageCeiling(need) : _nextBlockSize;
        nuint blockAlignment = alignment > page ? alignment : page;
        bool huge = HugePageBlocks && _blockCount >= SmallBlocksBeforeHuge;
        if (huge)
        {
            blockSize = HugeCeiling(blockSize);
            if (blockSize == 0) return null;
            if (blockAlignment < Pages.HugePageSize) blockAlignment = Pages.HugePageSize;
        }

        bool zero = true, commit = true;
        var b = (Block*)_hooks.Alloc(null, blockSize, blockAlignment, ref zero, ref commit, _arenaIndex);
        if (b == null) return null;
        // Advised before the first touch, so that touch already faults in a huge page.
        huge = huge && Pages.AdviseHuge(b, blockSize);
        if (!zero) NativeMemoryClear(b, blockSize);
        b->Huge = huge;
        if (huge) _hugeBlockCount++;
        b->Size = blockSize;
        b->Cursor = (byte*)b + header;
        b->End = (byte*)b + blockSize;
        b->Serial = (ulong)++_blockCount;
        b->Next = _blocks;
        _blocks = b;
        _mapped += blockSize;
        _resident += (nuint)(TouchCeiling(b, (byte*)b + header) - (byte*)b);
        if (_nextBlockSize < MaxGrownBlockSize) _nextBlockSize *= 2;
        return b;
    }

    private static void NativeMemoryClear(void* p, nuint size) => System.Runtime.InteropServices.NativeMemory.Clear(p, size);

    private static nuint PageCeiling(nuint n) => (n + Pages.PageSize - 1) & ~(Pages.PageSize - 1);

    private static nuint HugeCeiling(nuint n) => (n + Pages.HugePageSize - 1) & ~(Pages.HugePageSize - 1);

    // The end of the memory a touch below p made resident: its page, or its whole huge page.
    private static byte* TouchCeiling(Block* b, byte* p) => (byte*)(b->Huge ? HugeCeiling((nuint)p) : PageCeiling((nuint)p));

    /// <summary>Returns every block to the hooks. Nothing handed out may be used afterwards.</summary>
    public void Dispose()
    {
        using (_lock.EnterScope())
        {
            if (_disposed) return;
            _disposed = true;
            Block* b = _blocks;
            while (b != null)
            {
                Block* next = b->Next;
                _hooks.Destroy(b, b->Size, true, _arenaIndex);
                b = next;
            }

            _blocks = null;
            _mapped = 0;
            _resident = 0;
        }
    }
}
