using System;
using System.Diagnostics;

namespace Allocator.Bench.Harness;

/// <summary>Nanoseconds per operation over the timed runs of one workload and peer.</summary>
public sealed record Stats(double Median, double P25, double P75, double Min, double Max, int Runs, long OpsPerRun)
{
    /// <summary>The interquartile range as a fraction of the median: how much the runs disagree.</summary>
    public double Spread => Median > 0 ? (P75 - P25) / Median : 0;

    /// <summary>Runs for at least <see cref="RunSettings.WarmUp"/>, so that tiered compilation
    /// has promoted the loops and the allocator's caches are populated.</summary>
    public static void WarmUp(ITimedRun run, RunSettings settings)
    {
        long start = Stopwatch.GetTimestamp();
        for (int n = 0; n < settings.MinWarmUpRuns || Stopwatch.GetElapsedTime(start) < settings.WarmUp; n++)
            run.Run();
    }

    /// <summary>One timed run, in ns per operation.</summary>
    public static double Sample(ITimedRun run) => run.Run() * (1e9 / Stopwatch.Frequency) / run.Operations;

    public static Stats FromSamples(double[] ns, long opsPerRun)
    {
        ns = (double[])ns.Clone();
        Array.Sort(ns);
        return new Stats(Quantile(ns, 0.5), Quantile(ns, 0.25), Quantile(ns, 0.75), ns[0], ns[^1], ns.Length, opsPerRun);
    }

    /// <summary>Linear interpolation between the closest ranks of a sorted sample.</summary>
    private static double Quantile(double[] sorted, double q)
    {
        double position = q * (sorted.Length - 1);
        int low = (int)position;
        int high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
    }
}
