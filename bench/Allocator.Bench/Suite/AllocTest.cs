using System;
using Allocator.Bench.Peers;

namespace Allocator.Bench.Suite;

/// <summary>
/// OLogN's alloc-test (mimalloc-bench's alloc-testN, min(procs, 16) threads): per thread
/// 2^18 / N slots, about half filled at the start; each operation picks a slot with an 80/20
/// skew, and either reads the whole block and frees it or allocates a new block of up to 1 KiB
/// (small sizes more likely) and fills it.
/// </summary>
/// <remarks>
/// Differences from the C program: its generator, size distribution and Pareto helper are
/// re-expressed, not reproduced (splitmix64; a size of up to 2^(3..10) bytes with the exponent
/// uniform; six nested 80/20 choices of a slot range); 4,000,000 operations per thread instead of
/// 100,000,000.
/// </remarks>
internal static class AllocTest
{
    private const int TotalSlots = 1 << 18;
    private const int Operations = 4_000_000;

    public static double Run<TPeer, TBlock>(TPeer peer, SuiteScale scale) where TPeer : struct, IPeer<TBlock>
    {
        int threads = Math.Min(SuiteScale.Procs, 16);
        int slotsPerThread = TotalSlots / threads;
        int operations = scale.Count(Operations, 1000);
        return Threads.Run(threads, index =>
        {
            TPeer p = peer;
            var random = new SplitMix64((ulong)(index + 1) * 0x9E3779B97F4A7C15UL);
            var slots = new TBlock[slotsPerThread];
            var sizes = new nuint[slotsPerThread];
            for (int group = 0; group < slotsPerThread; group += 32)
            {
                uint bits = (uint)random.Next();
                for (int k = 0; k < 32 && group + k < slotsPerThread; k++)
                    if ((bits & (1u << k)) != 0)
                        Put(p, slots, sizes, group + k, ref random);
            }
            ulong sum = 0;
            for (int i = 0; i < operations; i++)
            {
                int slot = Pareto(ref random, slotsPerThread);
                nuint size = sizes[slot];
                if (size != 0)
                {
                    TBlock b = slots[slot];
                    for (nuint o = 0; o < size; o += 8)
                        sum += p.Read(b, o);
                    p.Free(b, size);
                    sizes[slot] = 0;
                }
                else
                {
                    Put(p, slots, sizes, slot, ref random);
                }
            }
            for (int k = 0; k < slotsPerThread; k++)
                if (sizes[k] != 0)
                    p.Free(slots[k], sizes[k]);
            GC.KeepAlive(sum);
        });
    }

    private static void Put<TPeer, TBlock>(TPeer p, TBlock[] slots, nuint[] sizes, int slot, ref SplitMix64 random)
        where TPeer : struct, IPeer<TBlock>
    {
        // Up to 2^e bytes with e uniform in 3..10: small blocks dominate, the largest is 1 KiB.
        ulong r = random.Next();
        nuint size = (nuint)(1 + (r >> 8) % (1UL << (3 + (int)(r % 8))));
        TBlock b = p.Allocate(size);
        p.Fill(b, size, (byte)size);
        slots[slot] = b;
        sizes[slot] = size;
    }

    /// <summary>80% of the picks fall in the first 20% of the range, six times over, then uniform.</summary>
    private static int Pareto(ref SplitMix64 random, int count)
    {
        int start = 0, length = count;
        ulong r = random.Next();
        for (int level = 0; level < 6 && length >= 5; level++, r /= 5)
        {
            int hot = length / 5;
            if (r % 5 != 0)
            {
                length = hot;
            }
            else
            {
                start += hot;
                length -= hot;
            }
        }
        return start + (int)(random.Next() % (ulong)length);
    }
}

/// <summary>splitmix64: a small, fast, seeded generator.</summary>
internal struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
