using System;

namespace Allocator.Profiling;

/// <summary>
/// Decides which allocations are sampled: each thread counts down the bytes to its next sample, and
/// the distance between samples is drawn from an exponential distribution with the interval as its
/// mean (jemalloc's geometric byte sampling), so a block of s bytes is sampled with probability
/// 1 - exp(-s / interval) whatever came before it.
/// </summary>
/// <remarks>
/// One countdown per thread and arena, in the thread's cache block
/// (<see cref="ThreadCache.BytesUntilSample"/>, drawn with the arena's interval when the block is
/// created), so the allocation hit needs one subtraction and a branch on memory it already reaches.
/// Allocations that find no cache block (before the thread's first, or in an arena without thread
/// caches) count down the thread's own countdown instead, shared by every arena on the thread
/// (0 on a thread that has not sampled yet, so its first such allocation draws); each sample from it
/// is weighted by the interval it was drawn with, which is the probability the block really had, so
/// the estimates stay unbiased.
/// </remarks>
internal static class ProfileSampler
{
    // The thread's own countdown, for allocations without a cache block, and the interval it was
    // drawn with (0 before the first draw).
    [ThreadStatic] private static long t_bytesUntilSample;
    [ThreadStatic] private static long t_interval;

    // The thread's generator state (splitmix64); seeded from the shared generator on first use.
    [ThreadStatic] private static ulong t_random;

    /// <summary>Counts <paramref name="size"/> bytes on the thread's own countdown; true when it ran out (call <see cref="Decide"/>).</summary>
    public static bool Consume(nuint size) => (t_bytesUntilSample -= (long)size) < 0;

    /// <summary>
    /// A cache block's first countdown at <paramref name="interval"/>: a draw, or -1 when every block
    /// is sampled (then every allocation runs it out, and <see cref="Redraw"/> sets it back).
    /// </summary>
    public static long FirstCountdown(long interval) => interval == 1 ? -1 : Draw(interval);

    /// <summary>
    /// After a cache block's <paramref name="countdown"/> ran out inside a block of
    /// <paramref name="size"/> bytes: the block is a sample standing for <paramref name="weight"/>
    /// blocks, and the next countdown is drawn with <paramref name="interval"/>, the arena's (the one
    /// the countdown was drawn with).
    /// </summary>
    public static void Redraw(ref long countdown, nuint size, long interval, out double weight)
    {
        weight = interval == 1 ? 1 : Weight(size == 0 ? 1 : size, interval);
        countdown = FirstCountdown(interval);
    }

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
            t_bytesUntilSample = first;
            if (first >= 0)
            {
                weight = 0;
                return false;
            }

            drawnWith = interval;
        }

        weight = Weight(size == 0 ? 1 : size, drawnWith);
        t_interval = interval;
        t_bytesUntilSample = Draw(interval);
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

    /// <summary>
    /// Restarts the calling thread's own countdown and seeds its generator (tests replay a run with a
    /// seed; cache blocks created after this draw from the seed too).
    /// </summary>
    internal static void ResetThread(ulong seed)
    {
        t_bytesUntilSample = 0;
        t_interval = 0;
        t_random = seed == 0 ? 1 : seed;
    }
}
