using System;
using System.ComponentModel;
using System.Threading;
using Allocator.Metadata;
using Allocator.Threading;

namespace Allocator.Extents;

/// <summary>
/// Hands out the 12-bit arena indices stored in every <see cref="Edata"/>; an index returned on
/// destroy is handed out again, lowest first, as jemalloc recycles destroyed arena indices.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Advanced)]
public static class ArenaIndices
{
    private const int Capacity = (int)Edata.NoArena;
    private static readonly ulong[] s_used = new ulong[(Capacity + 63) / 64];
    private static readonly RankedLock s_lock = new(LockRank.ArenaIndices);

    /// <summary>Takes the lowest free index.</summary>
    /// <exception cref="InvalidOperationException">All 4095 indices are in use.</exception>
    public static uint Rent()
    {
        using (s_lock.EnterScope())
        {
            for (int w = 0; w < s_used.Length; w++)
            {
                if (s_used[w] == ulong.MaxValue) continue;
                int bit = System.Numerics.BitOperations.TrailingZeroCount(~s_used[w]);
                int index = w * 64 + bit;
                if (index >= Capacity) break;
                s_used[w] |= 1UL << bit;
                return (uint)index;
            }
        }

        throw new InvalidOperationException($"All {Capacity} arena indices are in use; dispose arenas that are no longer needed.");
    }

    /// <summary>Gives an index back for reuse.</summary>
    public static void Return(uint index)
    {
        if (index >= Capacity) throw new ArgumentOutOfRangeException(nameof(index), index, "Not an arena index.");
        using (s_lock.EnterScope())
        {
            ulong bit = 1UL << (int)(index & 63);
            if ((s_used[index >> 6] & bit) == 0) throw new InvalidOperationException($"Arena index {index} is not in use.");
            s_used[index >> 6] &= ~bit;
        }
    }
}
