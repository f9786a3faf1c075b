using System;

namespace Allocator.Bench.Workloads;

/// <summary>
/// The random sequences, drawn once from fixed seeds before any peer runs, so that every peer
/// performs exactly the same allocations and frees in the same order.
/// </summary>
public static class Seeds
{
    public const int LiveSet = 20260101;
    public const int CrossThread = 20260202;
    public const int Memory = 20260303;
}

/// <summary>Random-size live set: <see cref="LiveBlocks"/> blocks stay alive; each operation frees
/// a random one and allocates a new random size in its place.</summary>
public sealed class LiveSetPlan
{
    public const int MinSize = 16, MaxSize = 1024;

    public LiveSetPlan(int liveBlocks, int operations)
    {
        var random = new Random(Seeds.LiveSet);
        InitialSizes = Draw(random, liveBlocks, MinSize, MaxSize);
        Slots = new int[operations];
        for (int i = 0; i < operations; i++)
            Slots[i] = random.Next(liveBlocks);
        Sizes = Draw(random, operations, MinSize, MaxSize);
    }

    public int LiveBlocks => InitialSizes.Length;

    /// <summary>The sizes the live set starts with (filled before the clock starts).</summary>
    public ushort[] InitialSizes { get; }

    /// <summary>Per operation: which live block is replaced...</summary>
    public int[] Slots { get; }

    /// <summary>...and the size of its replacement.</summary>
    public ushort[] Sizes { get; }

    /// <summary>Uniformly distributed sizes in [min, max].</summary>
    internal static ushort[] Draw(Random random, int count, int min, int max)
    {
        var sizes = new ushort[count];
        for (int i = 0; i < count; i++)
            sizes[i] = (ushort)random.Next(min, max + 1);
        return sizes;
    }
}

/// <summary>Cross-thread frees: one thread allocates <see cref="Sizes"/> in order and hands each
/// block through a bounded single-producer single-consumer ring to a thread that frees it.</summary>
public sealed class CrossThreadPlan
{
    public const int MinSize = 16, MaxSize = 1024;

    public CrossThreadPlan(int blocks, int ringCapacity)
    {
        Sizes = LiveSetPlan.Draw(new Random(Seeds.CrossThread), blocks, MinSize, MaxSize);
        RingCapacity = ringCapacity;
    }

    public ushort[] Sizes { get; }

    /// <summary>A power of two; small, so that the freeing thread sees blocks while they are fresh.</summary>
    public int RingCapacity { get; }
}

/// <summary>The memory run: allocate until <see cref="RequestedBytes"/> have been asked for, in
/// random sizes, then free <see cref="FreeCount"/> of the blocks in random order.</summary>
public sealed class MemoryPlan
{
    public const int MinSize = 16, MaxSize = 64 * 1024;

    public MemoryPlan(long requestedBytes, double freedFraction)
    {
        var random = new Random(Seeds.Memory);
        var sizes = new System.Collections.Generic.List<int>();
        long total = 0;
        while (total < requestedBytes)
        {
            int size = random.Next(MinSize, MaxSize + 1);
            sizes.Add(size);
            total += size;
        }
        Sizes = sizes.ToArray();
        RequestedBytes = total;

        // A Fisher-Yates shuffle of the block indices; the first FreeCount are freed.
        FreeOrder = new int[Sizes.Length];
        for (int i = 0; i < FreeOrder.Length; i++)
            FreeOrder[i] = i;
        for (int i = FreeOrder.Length - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (FreeOrder[i], FreeOrder[j]) = (FreeOrder[j], FreeOrder[i]);
        }
        FreeCount = (int)(Sizes.Length * freedFraction);

        long live = 0;
        for (int i = FreeCount; i < FreeOrder.Length; i++)
            live += Sizes[FreeOrder[i]];
        LiveBytes = live;
    }

    public int[] Sizes { get; }

    /// <summary>The sum of <see cref="Sizes"/>: the target, overshot by less than one block.</summary>
    public long RequestedBytes { get; }

    public int[] FreeOrder { get; }

    public int FreeCount { get; }

    /// <summary>The bytes still requested after the free phase (what an ideal allocator would hold).</summary>
    public long LiveBytes { get; }
}
