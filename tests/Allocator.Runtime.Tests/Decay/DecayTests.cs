using System;
using Microsoft.Extensions.Time.Testing;

namespace Allocator.Tests.Decay;

using Allocator.Decay;

// Ports test/unit/decay.c (jemalloc 5.3) onto a fake clock, plus the non-monotonic clock case
// of test/unit/arena_decay.c and checks of the backlog and jitter.
public sealed class DecayTests
{
    private const long DecayMs = 1000;
    private const long DecayNs = DecayMs * 1_000_000;

    private readonly FakeTimeProvider _time = new();
    private readonly DecayClock _clock;

    public DecayTests()
    {
        _clock = new DecayClock(_time);
    }

    [Fact]
    public void Init_sets_the_decay_time_and_a_nonzero_epoch_duration()
    {
        Assert.True(DecayTracker.IsValidDecayMs(DecayMs));
        var decay = new DecayTracker(_clock.NowNs(), DecayMs);
        Assert.Equal(DecayMs, decay.DecayMs);
        Assert.NotEqual(0, decay.IntervalNs);
        Assert.Equal(DecayNs / Smoothstep.Steps, decay.IntervalNs);
        Assert.True(decay.IsGradual);
        Assert.Equal(0, decay.EpochNs);
        Assert.Equal(0UL, decay.NpagesLimit);
        Assert.False(decay.Purging);
    }

    [Fact]
    public void Decay_ms_validity()
    {
        Assert.False(DecayTracker.IsValidDecayMs(-7));
        Assert.True(DecayTracker.IsValidDecayMs(-1));
        Assert.True(DecayTracker.IsValidDecayMs(0));
        Assert.True(DecayTracker.IsValidDecayMs(8943));
        Assert.True(DecayTracker.IsValidDecayMs(DecayTracker.MaxDecayMs));
        Assert.False(DecayTracker.IsValidDecayMs(DecayTracker.MaxDecayMs + 1));
        // jemalloc's "too large" probe: NSTIME_SEC_MAX * 1000 + 39.
        Assert.False(DecayTracker.IsValidDecayMs((18_446_744_072L * 1000) + 39));
        Assert.False(DecayTracker.IsValidDecayMs(long.MinValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DecayTracker(0, -2));
        var decay = new DecayTracker(0, DecayMs);
        Assert.Throws<ArgumentOutOfRangeException>(() => decay.Reinit(0, DecayTracker.MaxDecayMs + 1));
        Assert.Equal(DecayMs, decay.DecayMs);
    }

    [Fact]
    public void Npages_purge_in()
    {
        var decay = new DecayTracker(_clock.NowNs(), DecayMs);
        const ulong newPages = 100;
        Assert.Equal(newPages, decay.NpagesPurgeIn(DecayNs, newPages));
        Assert.Equal(0UL, decay.NpagesPurgeIn(0, newPages));
        Assert.Equal(newPages / 2, decay.NpagesPurgeIn(DecayNs / 2, newPages));
        Assert.Equal(newPages, decay.NpagesPurgeIn(long.MaxValue, newPages));
        Assert.Equal(0UL, decay.NpagesPurgeIn(-DecayNs, newPages));
    }

    [Fact]
    public void Npages_purge_in_without_gradual_decay()
    {
        Assert.Equal(100UL, new DecayTracker(0, DecayTracker.Immediately).NpagesPurgeIn(0, 100));
        Assert.Equal(0UL, new DecayTracker(0, DecayTracker.Never).NpagesPurgeIn(DecayNs, 100));
    }

    [Fact]
    public void Maybe_advance_epoch_needs_two_intervals()
    {
        var decay = new DecayTracker(_clock.NowNs(), DecayMs);
        Assert.False(decay.MaybeAdvanceEpoch(_clock.NowNs(), 0), "advanced while time stood still");

        // The deadline is jittered into the interval after the first one.
        Advance(decay.IntervalNs);
        Assert.False(decay.MaybeAdvanceEpoch(_clock.NowNs(), 0), "advanced after one interval");

        Advance(decay.IntervalNs);
        Assert.True(decay.MaybeAdvanceEpoch(_clock.NowNs(), 0), "did not advance after two intervals");
        Assert.Equal(2 * decay.IntervalNs, decay.EpochNs);
    }

    [Fact]
    public void Empty_backlog_keeps_the_limit_at_zero()
    {
        var decay = new DecayTracker(_clock.NowNs(), DecayMs);
        long step = decay.IntervalNs / 5;
        int epochs = 0;
        for (long i = 0; i < DecayNs / step * 10; i++)
        {
            if (decay.MaybeAdvanceEpoch(i * step, 0))
            {
                epochs++;
                Assert.Equal(0UL, decay.NpagesLimit);
            }
        }

        Assert.True(epochs > 0, "epochs never advanced");
    }

    [Fact]
    public void Limit_decays_to_zero_over_the_decay_time()
    {
        const int initialEpochs = 10;
        var decay = new DecayTracker(_clock.NowNs(), DecayMs);
        Assert.Equal(0UL, decay.NpagesLimit);
        long interval = decay.IntervalNs;

        ulong dirty = AddPagesPerEpoch(decay, initialEpochs, 1000);
        ulong limit = decay.NpagesLimit;
        Assert.True(limit > 0, "no limit after dirty pages were added");

        // With the page count unchanged, every advance must lower the limit.
        for (long i = initialEpochs; i * interval < DecayNs; i++)
        {
            Advance(interval);
            if (decay.MaybeAdvanceEpoch(_clock.NowNs(), dirty))
            {
                Assert.True(decay.NpagesLimit < limit, $"limit did not decay at epoch {i}");
                limit = decay.NpagesLimit;
            }
        }

        Assert.True(limit > 0, "limit reached zero before the decay time since the last pages were added");

        bool advanced = false;
        for (int i = 0; i < initialEpochs; i++)
        {
            Advance(interval);
            advanced |= decay.MaybeAdvanceEpoch(_clock.NowNs(), dirty);
        }

        Assert.True(advanced, "epoch never advanced");
        Assert.Equal(0UL, decay.NpagesLimit);
    }

    [Fact]
    public void Ns_until_purge()
    {
        var decay = new DecayTracker(_clock.NowNs(), DecayMs);
        Assert.Equal(DecayTracker.UnboundedTimeToPurge, decay.NsUntilPurge(0, 0));

        ulong dirty = AddPagesPerEpoch(decay, 10, 1000);

        Assert.True(decay.NsUntilPurge(dirty, dirty) >= DecayNs, "time to purge all pages");
        Assert.Equal(decay.IntervalNs * 2, decay.NsUntilPurge(dirty, 0));

        // Waiting the answer for half the pages purges about half (within +-50% of the threshold).
        ulong threshold = dirty / 2;
        long wait = decay.NsUntilPurge(dirty, threshold);
        Advance(wait);
        decay.MaybeAdvanceEpoch(_clock.NowNs(), dirty);
        ulong limit = decay.NpagesLimit;
        Assert.True(limit < dirty, "limit did not fall after waiting");
        long purged = (long)(dirty - limit);
        Assert.True(Math.Abs(purged - (long)threshold) < (long)(threshold / 2), $"purged {purged} pages for a threshold of {threshold}");
    }

    [Fact]
    public void Ns_until_purge_is_unbounded_without_gradual_decay()
    {
        Assert.Equal(DecayTracker.UnboundedTimeToPurge, new DecayTracker(0, DecayTracker.Immediately).NsUntilPurge(100, 0));
        Assert.Equal(DecayTracker.UnboundedTimeToPurge, new DecayTracker(0, DecayTracker.Never).NsUntilPurge(100, 0));
    }

    [Fact]
    public void Only_gradual_decay_has_epochs()
    {
        foreach (long ms in new[] { DecayTracker.Immediately, DecayTracker.Never })
        {
            var decay = new DecayTracker(0, ms);
            Assert.False(decay.IsGradual);
            Assert.Equal(0, decay.IntervalNs);
            Assert.False(decay.MaybeAdvanceEpoch(DecayNs * 10, 1000));
            Assert.Equal(0UL, decay.NpagesLimit);
        }
    }

    [Fact]
    public void Clock_going_backwards_restarts_the_epoch_without_advancing()
    {
        var decay = new DecayTracker(_clock.NowNs(), DecayMs);
        long interval = decay.IntervalNs;
        ulong dirty = AddPagesPerEpoch(decay, 10, 1000);
        ulong limit = decay.NpagesLimit;
        ulong[] backlog = decay.Backlog.ToArray();
        Assert.True(limit > 0);

        // Three intervals back is surely before the current epoch's start.
        _time.AdjustTime(_time.GetUtcNow() - TimeSpan.FromTicks(3 * interval / 100));
        long now = _clock.NowNs();
        Assert.True(now < decay.EpochNs);
        Assert.False(decay.MaybeAdvanceEpoch(now, dirty));
        Assert.Equal(now, decay.EpochNs);
        Assert.InRange(decay.DeadlineNs, now + interval, now + (2 * interval) - 1);
        Assert.Equal(limit, decay.NpagesLimit);
        Assert.Equal(backlog, decay.Backlog.ToArray());

        // A clock stuck there never advances, so nothing is purged (arena_decay.c's nonmonotonic case).
        for (int i = 0; i < Smoothstep.Steps + 1; i++)
        {
            Assert.False(decay.MaybeAdvanceEpoch(_clock.NowNs(), dirty + (ulong)i));
        }

        Assert.Equal(limit, decay.NpagesLimit);

        // Time running forward again resumes the schedule from the new epoch.
        Advance(2 * interval);
        Assert.True(decay.MaybeAdvanceEpoch(_clock.NowNs(), dirty));
        Assert.Equal(now + (2 * interval), decay.EpochNs);
    }

    [Fact]
    public void Backlog_records_new_pages_and_ages_them()
    {
        var decay = new DecayTracker(0, DecayMs);
        long interval = decay.IntervalNs;
        ReadOnlySpan<ulong> h = Smoothstep.Table;

        Assert.True(decay.MaybeAdvanceEpoch(2 * interval, 500));
        Assert.Equal(500UL, decay.Backlog[199]);
        Assert.Equal(0UL, decay.Backlog[198]);
        Assert.Equal(500UL, decay.NpagesLimit);
        Assert.Equal(500UL, decay.Nunpurged);

        // Five epochs pass in one call: the old slot moves down five, the skipped ones stay empty.
        Assert.True(decay.MaybeAdvanceEpoch(7 * interval, 800));
        Assert.Equal(500UL, decay.Backlog[194]);
        for (int i = 195; i < 199; i++)
        {
            Assert.Equal(0UL, decay.Backlog[i]);
        }

        Assert.Equal(300UL, decay.Backlog[199]);
        Assert.Equal((ulong)(((500 * h[194]) + (300 * h[199])) >> 24), decay.NpagesLimit);
        Assert.Equal(800UL, decay.Nunpurged);

        // Fewer pages than at the last advance (some were purged) add nothing new.
        Assert.True(decay.MaybeAdvanceEpoch(9 * interval, 600));
        Assert.Equal(0UL, decay.Backlog[199]);

        // More than the whole curve later everything old has aged out.
        Assert.True(decay.MaybeAdvanceEpoch(300 * interval, 600));
        Assert.Equal(-1, decay.Backlog.IndexOfAnyExcept(0UL));
        Assert.Equal(0UL, decay.NpagesLimit);
        Assert.Equal(600UL, decay.Nunpurged);
    }

    [Fact]
    public void Deadlines_are_jittered_within_the_next_interval_and_reproducible()
    {
        var a = new DecayTracker(0, DecayMs);
        var b = new DecayTracker(0, DecayMs);
        long interval = a.IntervalNs;
        bool sawJitter = false;
        for (long t = 0; t < 3 * DecayNs; t += interval / 3)
        {
            bool advancedA = a.MaybeAdvanceEpoch(t, (ulong)t / 1000);
            Assert.Equal(advancedA, b.MaybeAdvanceEpoch(t, (ulong)t / 1000));
            Assert.Equal(a.DeadlineNs, b.DeadlineNs);
            Assert.Equal(0, a.EpochNs % interval);
            Assert.InRange(a.DeadlineNs, a.EpochNs + interval, a.EpochNs + (2 * interval) - 1);
            sawJitter |= a.DeadlineNs != a.EpochNs + interval;
        }

        Assert.True(sawJitter);

        // Reinit restarts the jitter sequence and empties the backlog.
        a.Reinit(0, DecayMs);
        var fresh = new DecayTracker(0, DecayMs);
        Assert.Equal(fresh.DeadlineNs, a.DeadlineNs);
        Assert.Equal(-1, a.Backlog.IndexOfAnyExcept(0UL));
        Assert.Equal(0UL, a.Nunpurged);
    }

    [Fact]
    public void Reinit_switches_between_gradual_and_not()
    {
        var decay = new DecayTracker(0, DecayMs);
        decay.Reinit(5, DecayTracker.Never);
        Assert.False(decay.IsGradual);
        Assert.Equal(DecayTracker.Never, decay.DecayMs);
        Assert.Equal(5, decay.EpochNs);
        Assert.Equal(5, decay.DeadlineNs);

        decay.Reinit(10, 2000);
        Assert.Equal(2000 * 1_000_000L / 200, decay.IntervalNs);
        Assert.Equal(10, decay.EpochNs);
    }

    [Fact]
    public void Largest_decay_time_does_not_overflow()
    {
        var decay = new DecayTracker(0, DecayTracker.MaxDecayMs);
        long interval = decay.IntervalNs;
        Assert.Equal(DecayTracker.MaxDecayMs * 1_000_000 / 200, interval);
        Assert.True(decay.MaybeAdvanceEpoch(2 * interval, 1_000_000));
        Assert.Equal(interval * 200, decay.NsUntilPurge(1_000_000, 1_000_000));
        Assert.Equal(interval * 2, decay.NsUntilPurge(1_000_000, 0));
        long half = decay.NsUntilPurge(1_000_000, 500_000);
        Assert.InRange(half, interval * 2, interval * 200);
        Assert.Equal(1_000_000UL, decay.NpagesPurgeIn(long.MaxValue, 1_000_000));
    }

    [Fact]
    public void Lock_and_purging_flag_are_per_object()
    {
        var a = new DecayTracker(0, DecayMs);
        var b = new DecayTracker(0, DecayMs);
        using (a.Lock.EnterScope())
        {
            Assert.True(a.Lock.IsHeldByCurrentThread);
            Assert.False(b.Lock.IsHeldByCurrentThread);
            a.Purging = true;
        }

        Assert.True(a.Purging);
        Assert.False(b.Purging);
    }

    // Adds `perEpoch` dirty pages every interval for `epochs` intervals, as jemalloc's tests do.
    private ulong AddPagesPerEpoch(DecayTracker decay, int epochs, ulong perEpoch)
    {
        ulong dirty = 0;
        bool advanced = false;
        for (int i = 0; i < epochs; i++)
        {
            Advance(decay.IntervalNs);
            dirty += perEpoch;
            advanced |= decay.MaybeAdvanceEpoch(_clock.NowNs(), dirty);
        }

        Assert.True(advanced, "epoch never advanced");
        return dirty;
    }

    // The fake clock counts 100 ns ticks; every duration used here is a multiple of that.
    private void Advance(long ns)
    {
        Assert.Equal(0, ns % 100);
        _time.Advance(TimeSpan.FromTicks(ns / 100));
    }
}
