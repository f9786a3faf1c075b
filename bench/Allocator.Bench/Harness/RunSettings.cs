using System;

namespace Allocator.Bench.Harness;

/// <summary>How long and how often to measure; <see cref="Scale"/> multiplies every workload's
/// operation count.</summary>
public sealed record RunSettings(string Mode, int Runs, TimeSpan WarmUp, int MinWarmUpRuns, double Scale, long MemoryBytes)
{
    /// <summary>For development: a short look, about a minute in all.</summary>
    public static RunSettings Quick { get; } = new("quick", 5, TimeSpan.FromMilliseconds(500), 2, 0.1, 256L << 20);

    /// <summary>The report's settings: a few minutes in all.</summary>
    public static RunSettings Full { get; } = new("full", 11, TimeSpan.FromMilliseconds(400), 3, 1.0, 1L << 30);

    public int Ops(int full) => Math.Max(1, (int)(full * Scale));
}
