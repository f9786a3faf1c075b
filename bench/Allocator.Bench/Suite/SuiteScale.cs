using System;

namespace Allocator.Bench.Suite;

/// <summary>
/// The sizes of the ported mimalloc-bench workloads in one mode. <see cref="Full"/> keeps each
/// workload's shape and parameters and scales only its repeat count (so one run takes about a
/// second here); <see cref="Quick"/> is a tenth of that, for a smoke run.
/// </summary>
public sealed record SuiteScale(string Mode, double Factor, int Runs, TimeSpan WarmUp)
{
    public static SuiteScale Full { get; } = new("full", 1.0, 3, TimeSpan.FromMilliseconds(300));

    public static SuiteScale Quick { get; } = new("quick", 0.1, 1, TimeSpan.FromMilliseconds(60));

    /// <summary>The scale of the untimed warm-up passes, which let tiered compilation promote the
    /// loops and the allocator's slow paths before the timed run.</summary>
    public SuiteScale ForWarmUp() => this with { Factor = Factor * 0.02 };

    public static SuiteScale Parse(string mode) => mode switch
    {
        "full" => Full,
        "quick" => Quick,
        _ => throw new ArgumentException($"Unknown suite mode '{mode}' (full or quick)."),
    };

    /// <summary><paramref name="full"/> scaled, never below <paramref name="min"/>.</summary>
    public int Count(int full, int min = 1) => Math.Max(min, (int)(full * Factor));

    /// <summary>Threads for the workloads that mimalloc-bench runs with <c>procs</c> threads.</summary>
    public static int Procs => Environment.ProcessorCount;
}
