using System;
using System.Runtime.CompilerServices;

namespace Allocator.Profiling;

/// <summary>
/// Decides which allocations are sampled: each thread counts down the bytes to its next sample, and
/// the distance between samples is drawn from an exponential distribution with the interval as its
/// mean (jemalloc's geometric byte sampling), so a block of s bytes is sampled with probability
/// 1 - exp(-s / interval) whatever came before it.
/// </summary>
/// <remarks>
/// One countdown per thread (<see cref="ThreadCaches.BytesUntilSample"/>; 0 on a thread that has not
/// sampled yet, so its first allocation takes the slow path and draws), shared by every profiled arena on it: the fast path then needs one
/// thread-local subtraction and a branch. Arenas with different intervals may share a countdown; each
/// sample is weighted by the interval the countdown was drawn with, which is the probability the
/// block really had, so the estimates stay unbiased.
/// </remarks>
internal static class ProfileSampler
{
    // The interval the countdown was drawn with; 0 before the first draw.
    [ThreadStatic] private static long t_interval;

    // The thread's generator state (splitmix64); seeded from the shared generator on first use.
    [ThreadStatic] private static ulong t_random;

    /// <summary>Counts <paramref name="size"/> bytes; true when the countdown ran out (call <see cref="Decide"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Consume(nuint size) => (ThreadCaches.BytesUntilSample -= (long)size) < 0;

    /// <summary>
    /// After <see cref="Consume"/> returned true: whether the block of <paramref name="size"/> bytes
    /// is a sample, and the number of blocks it stands for. Draws the next countdown with
    /// <paramref name="interval"/>, the arena's.
    /// </summary>
    public static bool Decide(nuint size, long interval, out double weight)
    {
        // Every block, whatever the countdown: the thread's draws are left to the arenas that sample.
        if (interval == 1)
        {
            weight = 1;
            return true;
        }

        long drawnWith = t_interval;
        if (drawnWith == 0)
        {
            // The thread's first draw: the block is a sample only if the fresh countdown ends inside it.
            t_interval = interval;
            long first = Draw(interval) - (long)size;
            ThreadCaches.BytesUntilSample = first;
            if (first >= 0)
            {
                weight = 0;
                return false;
            }

            drawnWith = interval;
        }

        weight = Weight(size == 0 ? 1 : size, drawnWith);
        t_interval = interval;
        ThreadCaches.BytesUntilSample = Draw(interval);
        return true;
    }

    /// <summary>
    /// How many blocks of <paramref name="size"/> bytes one sample stands for at <paramref name="interval"/>:
    /// 1/p with p = 1 - exp(-size / interval) (jemalloc's unbiasing).
    /// </summary>
    public static double Weight(nuint size, long interval) => 1.0 / -double.ExpM1(-(double)size / interval);

    // Exponential with mean `interval`, as a whole number of bytes.
    private static long Draw(long interval)
    {
        double u = 1.0 - NextDouble();
        double bytes = -Math.Log(u) * interval;
        return bytes >= long.MaxValue / 2 ? long.MaxValue / 2 : (long)bytes;
    }

    // Uniform in [0, 1) from the thread's own generator, so that sampling takes no lock and a test
    // can replay a thread's draws.
    private static double NextDouble()
    {
        if (t_random == 0) t_random = (ulong)Random.Shared.NextInt64(1, long.MaxValue);
        ulong z = t_random += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z >> 11) * (1.0 / (1UL << 53));
    }

    /// <summary>Restarts the calling thread's countdown and seeds its generator (tests replay a run with a seed).</summary>
    internal static void ResetThread(ulong seed)
    {
        ThreadCaches.BytesUntilSample = 0;
        t_interval = 0;
        t_random = seed == 0 ? 1 : seed;
    }
}
