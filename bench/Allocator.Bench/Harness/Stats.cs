using System;
using System.Diagnostics;

namespace Allocator.Bench.Harness;

/// <summary>Nanoseconds per operation over the timed runs of one workload and peer.</summary>
public sealed record Stats(double Median, double P25, double P75, double Min, double Max, int Runs, long OpsPerRun)
{
    /// <summary>The interquartile range as a fraction of the median: how much the runs disagree.</summary>
    public double Spread => Median > 0 ? (P75 - P25) / Median : 0;

    /// <summary>Warms up for at least <see cref="RunSettings.WarmUp"/> (so tiered compilation has
    /// promoted the loops and the allocator's caches are populated), then times
    /// <see cref="RunSettings.Runs"/> runs.</summary>
    public static Stats Measure(ITimedRun run, RunSettings settings)
    {
        long warmUpStart = Stopwatch.GetTimestamp();
        for (int n = 0; n < settings.MinWarmUpRuns || Stopwatch.GetElapsedTime(warmUpStart) < settings.WarmUp; n++)
            run.Run();

        var ns = new double[settings.Runs];
        for (int i = 0; i < ns.Length; i++)
            ns[i] = run.Run() * (1e9 / Stopwatch.Frequency) / run.Operations;
        Array.Sort(ns);
        return new Stats(Quantile(ns, 0.5), Quantile(ns, 0.25), Quantile(ns, 0.75), ns[0], ns[^1], ns.Length, run.Operations);
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
