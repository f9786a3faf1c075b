using System;
using Allocator.Decay;
using Microsoft.Extensions.Time.Testing;

namespace Allocator.Tests.Decay;

public sealed class DecayClockTests
{
    [Fact]
    public void Counts_nanoseconds_from_creation()
    {
        // Calendar-tick timestamps (about 6.3e17 at the fake's start) would overflow as raw nanoseconds.
        var time = new FakeTimeProvider();
        var clock = new DecayClock(time);
        Assert.Equal(0, clock.NowNs());
        time.Advance(TimeSpan.FromMilliseconds(1500));
        Assert.Equal(1_500_000_000, clock.NowNs());
        time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(1_500_000_100, clock.NowNs());
    }

    [Fact]
    public void Goes_negative_when_the_provider_goes_back()
    {
        var time = new FakeTimeProvider();
        var clock = new DecayClock(time);
        time.AdjustTime(time.GetUtcNow() - TimeSpan.FromSeconds(2));
        Assert.Equal(-2_000_000_000, clock.NowNs());
    }

    [Fact]
    public void Converts_exactly_and_saturates()
    {
        Assert.Equal(1_500_000_000, DecayClock.ToNanoseconds(0, 15, 10));
        Assert.Equal(123, DecayClock.ToNanoseconds(1000, 1123, 1_000_000_000));
        Assert.Equal(333, DecayClock.ToNanoseconds(0, 1, 3_000_000));
        Assert.Equal(-1_000_000_000, DecayClock.ToNanoseconds(10, 0, 10));
        // A large distance at a high frequency: the 64-bit product would overflow.
        Assert.Equal(3_600_000_000_000, DecayClock.ToNanoseconds(0, 36_000_000_000_000, 10_000_000_000));
        Assert.Equal(long.MaxValue, DecayClock.ToNanoseconds(long.MinValue, long.MaxValue, 1));
        Assert.Equal(long.MinValue, DecayClock.ToNanoseconds(long.MaxValue, long.MinValue, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => DecayClock.ToNanoseconds(0, 1, 0));
    }

    [Fact]
    public void Uses_the_system_clock_in_production()
    {
        var clock = new DecayClock(TimeProvider.System);
        long first = clock.NowNs();
        Assert.InRange(first, 0, 10_000_000_000);
        Assert.True(clock.NowNs() >= first);
        Assert.Same(TimeProvider.System, clock.TimeProvider);
    }
}
