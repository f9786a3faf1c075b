using System;
using System.ComponentModel;

namespace Allocator.Decay;

/// <summary>
/// Reads a <see cref="TimeProvider"/> as the signed 64-bit nanosecond count that
/// <see cref="DecayTracker"/> works in, measured from the moment the clock was created.
/// </summary>
/// <remarks>
/// Counting from an origin keeps the numbers small: a raw timestamp converted to nanoseconds can
/// overflow <see cref="long"/> (a fake provider's timestamps are calendar ticks since year 1, about
/// 6e19 ns), while an elapsed time only overflows after 292 years. A provider whose time goes
/// backwards yields smaller (possibly negative) values; <see cref="DecayTracker.MaybeAdvanceEpoch"/>
/// copes with that.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Advanced)]
internal readonly struct DecayClock
{
    private const long NsPerSecond = 1_000_000_000;

    private readonly long _originTimestamp;

    /// <summary>Starts a clock at the provider's current timestamp.</summary>
    /// <param name="timeProvider">The time source; <see cref="TimeProvider.System"/> in production, a fake one in tests.</param>
    public DecayClock(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        TimeProvider = timeProvider;
        _originTimestamp = timeProvider.GetTimestamp();
    }

    /// <summary>The time source.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>Nanoseconds from the clock's creation to now.</summary>
    public long NowNs() => ToNanoseconds(_originTimestamp, TimeProvider.GetTimestamp(), TimeProvider.TimestampFrequency);

    /// <summary>
    /// Converts the distance between two timestamps of a provider with the given frequency
    /// (ticks per second) to nanoseconds, rounding toward zero and saturating at the
    /// <see cref="long"/> range.
    /// </summary>
    /// <param name="fromTimestamp">The earlier timestamp (the origin).</param>
    /// <param name="toTimestamp">The later timestamp; earlier ones give a negative result.</param>
    /// <param name="frequency">Timestamp ticks per second, from <see cref="TimeProvider.TimestampFrequency"/>.</param>
    /// <returns>The elapsed nanoseconds.</returns>
    public static long ToNanoseconds(long fromTimestamp, long toTimestamp, long frequency)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(frequency);
        // In 128 bits: delta * 1e9 overflows 64 bits past ~9.2e9 ticks (15 minutes of a 10 MHz
        // timestamp), and dividing first would drop the sub-second remainder.
        Int128 ns = ((Int128)toTimestamp - fromTimestamp) * NsPerSecond / frequency;
        return ns > long.MaxValue ? long.MaxValue : ns < long.MinValue ? long.MinValue : (long)ns;
    }
}
