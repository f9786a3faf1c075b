using System;
using Allocator.Bench.Peers;

namespace Allocator.Bench.Suite;

/// <summary>
/// mimalloc-bench's malloc-large: 20 slots; each iteration replaces a random slot with a new
/// block of 5..25 MiB, zero-filled as C++'s value-initialising <c>make_unique&lt;char[]&gt;</c> does.
/// </summary>
/// <remarks>Differences: .NET's seeded <see cref="Random"/> stands in for mt19937(42) with
/// uniform_int_distribution (same ranges, another sequence); 200 iterations instead of 2,000.</remarks>
internal static class MallocLarge
{
    private const int Slots = 20, Iterations = 200, MinSize = 5 << 20, MaxSize = 25 << 20;

    public static double Run<TPeer, TBlock>(TPeer peer, SuiteScale scale) where TPeer : struct, IPeer<TBlock>
    {
        int iterations = scale.Count(Iterations, 4);
        var random = new Random(42);
        var picks = new (int Slot, nuint Size)[iterations];
        for (int i = 0; i < iterations; i++)
            picks[i] = (random.Next(Slots), (nuint)random.Next(MinSize, MaxSize + 1));
        return Threads.Run(1, _ =>
        {
            TPeer p = peer;
            var slots = new TBlock[Slots];
            var sizes = new nuint[Slots];
            foreach ((int slot, nuint size) in picks)
            {
                if (sizes[slot] != 0)
                    p.Free(slots[slot], sizes[slot]);
                TBlock b = p.Allocate(size);
                p.Fill(b, size, 0);
                slots[slot] = b;
                sizes[slot] = size;
            }
            for (int k = 0; k < Slots; k++)
                if (sizes[k] != 0)
                    p.Free(slots[k], sizes[k]);
        });
    }
}
