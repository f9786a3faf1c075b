using System;

namespace Allocator.Bench.Harness;

/// <summary>One workload bound to one peer, ready to be run many times.</summary>
public interface ITimedRun : IDisposable
{
    /// <summary>How many operations one run performs (the divisor for ns per operation).</summary>
    long Operations { get; }

    /// <summary>Runs once; returns the Stopwatch ticks of the timed part only (set-up and
    /// tear-down, such as filling a live set, stay outside).</summary>
    long Run();
}
