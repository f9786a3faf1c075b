using System;
using System.Threading;
using Allocator.Bench.Peers;

namespace Allocator.Bench.Suite;

/// <summary>
/// glibc's malloc benchmarks as mimalloc-bench modified them (every byte of every block written).
/// glibc-simple: blocks of 16, 32 and 64 B in working sets of 25, 100, 400 and 1600, half freed in
/// allocation order and half in reverse, in the main thread, in a new thread, and in the main
/// thread again. glibc-thread: N threads each replace blocks in a 1,024-slot working set with
/// inverse-square sizes of 4..32,768 B.
/// </summary>
internal static class GlibcBench
{
    /// <summary>Mallocs per working-set size and scenario: 2,000,000 in the original; a quarter here.</summary>
    private const int SimpleMallocs = 500_000;

    /// <summary>Iterations per thread; the original counts how many fit in 2 s instead.</summary>
    private const int ThreadIterations = 4_000_000;

    private const int WorkingSet = 1024, BlockSizes = 8000, Offsets = 4096, MinSize = 4, MaxSize = 32768;

    public static double Simple<TPeer, TBlock>(TPeer peer, SuiteScale scale) where TPeer : struct, IPeer<TBlock>
    {
        int total = scale.Count(SimpleMallocs, 1600);
        double seconds = 0;
        foreach (int size in new[] { 16, 32, 64 })
        {
            foreach (int n in new[] { 25, 100, 400, 1600 })
            {
                int iterations = total / n;
                var blocks = new TBlock[n];
                seconds += Timed(() => Simple(peer, blocks, (nuint)size, iterations / 4));
                seconds += Timed(() => Simple(peer, blocks, (nuint)size, iterations));
                seconds += Threads.Run(1, _ => Simple(peer, blocks, (nuint)size, iterations));
                seconds += Timed(() => Simple(peer, blocks, (nuint)size, iterations));
            }
        }
        return seconds;
    }

    private static double Timed(Action run)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        run();
        return System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static void Simple<TPeer, TBlock>(TPeer p, TBlock[] blocks, nuint size, int iterations) where TPeer : struct, IPeer<TBlock>
    {
        int n = blocks.Length;
        for (int i = 0; i < iterations; i++)
        {
            for (int j = 0; j < n; j++)
            {
                TBlock b = p.Allocate(size);
                for (nuint g = 0; g < size; g++)
                    p.Write(b, g, (byte)g);
                blocks[j] = b;
            }
            for (int j = 0; j < n / 2; j++)
                p.Free(blocks[j], size);
            for (int j = n - 1; j >= n / 2; j--)
                p.Free(blocks[j], size);
        }
    }

    public static double Thread<TPeer, TBlock>(TPeer peer, SuiteScale scale) where TPeer : struct, IPeer<TBlock>
    {
        // The original draws both tables from glibc's rand() without a seed (that is, seed 1).
        var rand = new GlibcRandom(1);
        var sizes = new nuint[BlockSizes];
        for (int i = 0; i < sizes.Length; i++)
            sizes[i] = InverseSquare(rand.Next());
        var offsets = new int[Offsets];
        for (int i = 0; i < offsets.Length; i++)
            offsets[i] = rand.Next() % WorkingSet;

        int iterations = scale.Count(ThreadIterations, 1000);
        return Threads.Run(SuiteScale.Procs, _ =>
        {
            TPeer p = peer;
            var slots = new TBlock[WorkingSet];
            var slotSizes = new nuint[WorkingSet];
            int s = 0, o = 0;
            for (int i = 0; i < iterations; i++)
            {
                int slot = offsets[o];
                nuint size = sizes[s];
                if (++o == offsets.Length) o = 0;
                if (++s == sizes.Length) s = 0;
                if (slotSizes[slot] != 0)
                    p.Free(slots[slot], slotSizes[slot]);
                TBlock b = p.Allocate(size);
                for (nuint g = 0; g < size; g++)
                    p.Write(b, g, (byte)g);
                slots[slot] = b;
                slotSizes[slot] = size;
            }
            for (int k = 0; k < WorkingSet; k++)
                if (slotSizes[k] != 0)
                    p.Free(slots[k], slotSizes[k]);
        });
    }

    /// <summary>A size from the inverse-square distribution on [4, 32768]: the inverse of a
    /// uniform point between 1/max and 1/min, so small sizes dominate.</summary>
    private static nuint InverseSquare(int random)
    {
        double r = random / (double)GlibcRandom.Max;
        double inverse = (1.0 / MaxSize - 1.0 / MinSize) * r + 1.0 / MinSize;
        return (nuint)Math.Clamp(1.0 / inverse, MinSize, MaxSize);
    }
}

/// <summary>glibc's default <c>rand()</c> (the additive feedback generator behind <c>random()</c>,
/// 31 words of state), so that the tables match the C benchmark's.</summary>
internal sealed class GlibcRandom
{
    public const int Max = int.MaxValue;

    // The last 34 words of the sequence r[i] = r[i-31] + r[i-3] (mod 2^32).
    private readonly uint[] _ring = new uint[34];
    private int _i;

    public GlibcRandom(int seed)
    {
        _ring[0] = (uint)(seed == 0 ? 1 : seed);
        for (int i = 1; i < 31; i++)
        {
            // 16807 * r mod (2^31 - 1), by Schrage's method as glibc computes it.
            int previous = (int)_ring[i - 1];
            int word = 16807 * (previous % 127773) - 2836 * (previous / 127773);
            _ring[i] = (uint)(word < 0 ? word + int.MaxValue : word);
        }
        for (int i = 31; i < 34; i++)
            _ring[i] = _ring[i - 31];
        // glibc discards the first 310 words after the seeded ones.
        for (_i = 34; _i < 344;)
            Step();
    }

    private uint Step()
    {
        uint value = unchecked(_ring[(_i - 31) % 34] + _ring[(_i - 3) % 34]);
        _ring[_i % 34] = value;
        _i++;
        return value;
    }

    /// <summary>The next value in [0, 2^31).</summary>
    public int Next() => (int)(Step() >> 1);
}
