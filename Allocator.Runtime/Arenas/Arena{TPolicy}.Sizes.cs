using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace Allocator;

// Size classes and the policy's switches, read as constants for a generated policy and from the
// instance for a runtime one.
public sealed unsafe partial class Arena<TPolicy>
{
    // The size class of a size above the lookup table (and at most the largest class): jemalloc's
    // sz_size2index_compute with a lzcnt for the doubling, so the large paths skip the general loop.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int IndexAboveLookup(nuint size)
    {
        int lgGroup = TPolicy.IsRuntimeConfigured ? _lgGroup : TPolicy.LgGroup;
        int lgCeil = BitOperations.Log2(((ulong)size << 1) - 1);
        int step = (int)(((ulong)size - 1) >> (lgCeil - lgGroup - 1)) & ((1 << lgGroup) - 1);
        return (lgCeil << lgGroup) + step + _groupBias;
    }

    // The size class of a size the lookup table covers. A generated policy reads its own table, baked
    // into the user's assembly, with its slot shift a constant; a runtime policy reads the arena's copy.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int SmallIndex(nuint size)
    {
        Debug.Assert(size <= _lookupMax);
        if (TPolicy.IsRuntimeConfigured) return _sizeToIndex[(size + _lookupRound) >> _lookupShift];
        // Every caller has checked the size against the lookup limit, and the constructor checked the
        // table's length, so the span's bounds check would only cost a compare on the hot path.
        nuint slot = (size + ((nuint)1 << TPolicy.LgTinyMin) - 1) >> TPolicy.LgTinyMin;
        return Unsafe.Add(ref MemoryMarshal.GetReference(TPolicy.SizeToIndexLookup), slot);
    }

    // A generated policy's class and bin tables are baked into the user's assembly with constant
    // lengths; a runtime policy reads the arena's copies.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong ClassSize(int index) => TPolicy.IsRuntimeConfigured ? _indexToSize[index] : TPolicy.ClassSizes[index];

    // Bin tables are read with slab class indices only (from a slab's map word or a bin), which
    // the constructor checked against the tables' lengths, so the free path skips the bounds check.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint RegionSize(int index)
    {
        Debug.Assert((uint)index < (uint)_binCount);
        return TPolicy.IsRuntimeConfigured ? _regionSize[index] : (uint)Unsafe.Add(ref MemoryMarshal.GetReference(TPolicy.BinRegionSizes), index);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint DivMagic(int index)
    {
        Debug.Assert((uint)index < (uint)_binCount);
        return TPolicy.IsRuntimeConfigured ? _divMagic[index] : Unsafe.Add(ref MemoryMarshal.GetReference(TPolicy.BinDivMagic), index);
    }

    // The constant of the free path's region-start test (DivInfo.IsMultiple): one table read and one
    // multiply where the division took two of each.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong MultipleMagic(int index)
    {
        Debug.Assert((uint)index < (uint)_binCount);
        return TPolicy.IsRuntimeConfigured ? _multipleMagic[index] : GeneratedMultipleMagic.Table[index];
    }

    private bool UseThreadCache
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => TPolicy.IsRuntimeConfigured ? _threadCache : TPolicy.ThreadCache;
    }

    private bool DebugChecks
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => TPolicy.IsRuntimeConfigured ? _debugChecks : TPolicy.DebugChecks;
    }

    private bool FreeCaches
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => TPolicy.IsRuntimeConfigured ? _freeCaches : TPolicy.ThreadCache && !TPolicy.DebugChecks;
    }

    // Run-time state for every policy: SetDecayTimes may turn decay on for a policy declared without it.
    private bool Decays => Volatile.Read(ref _decays);
}
