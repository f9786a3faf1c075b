using System;
using System.ComponentModel;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Threading;
using Allocator.Threading;

namespace Allocator.Decay;

/// <summary>
/// The schedule on which unused pages of one extent cache move on to the next state (dirty to
/// muzzy, muzzy to retained): jemalloc's <c>decay_t</c>.
/// </summary>
/// <remarks>
/// <para>
/// The decay time is split into <see cref="Smoothstep.Steps"/> epochs. At each epoch advance the
/// pages that became unused since the previous one are recorded in the backlog; pages recorded k
/// epochs ago may stay in the cache only up to the fraction <c>Smoothstep.Table[199 - k]</c>. The
/// sum over the backlog is <see cref="NpagesLimit"/>: the page allocator purges down to it. Each
/// epoch deadline is jittered within the following interval so that many arenas do not purge
/// in lockstep.
/// </para>
/// <para>
/// Time is a signed nanosecond count from any origin (see <see cref="DecayClock"/>). Page counts
/// are unsigned 64-bit like jemalloc's <c>size_t</c>; sums of backlog slots times curve values
/// are exact while fewer than 2^40 pages are tracked.
/// </para>
/// <para>
/// Thread safety: every member except <see cref="DecayMs"/>, <see cref="IsGradual"/> and
/// <see cref="IsValidDecayMs"/> requires <see cref="Lock"/> to be held. The page allocator sets
/// <see cref="Purging"/> and drops the lock while it purges, so that one purger runs at a time
/// without blocking other threads' epoch updates.
/// </para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Advanced)]
internal sealed class DecayTracker
{
    /// <summary>The decay time that means "never purge".</summary>
    public const long Never = -1;

    /// <summary>The decay time that means "purge at once".</summary>
    public const long Immediately = 0;

    /// <summary>The largest valid decay time, chosen so that it is representable in signed 64-bit nanoseconds.</summary>
    /// <remarks>jemalloc's bound is unsigned (about 584 years); ours is about 292 years.</remarks>
    public const long MaxDecayMs = ArenaDeclarationRules.MaxDecayMs;

    /// <summary>What <see cref="NsUntilPurge"/> returns when no purge will ever be due.</summary>
    public const long UnboundedTimeToPurge = long.MaxValue;

    private const long NsPerMs = 1_000_000;
    private const int Steps = Smoothstep.Steps;

    // Any fixed seed keeps runs reproducible; jemalloc seeds with the object's address instead.
    private const ulong JitterSeed = 0x2545F4914F6CDD1D;

    // Knuth's MMIX linear congruential generator, as jemalloc's prng uses for 64-bit state.
    private const ulong LcgMultiplier = 6364136223846793005;
    private const ulong LcgIncrement = 1442695040888963407;

    private long _decayMs;
    private long _intervalNs;
    private long _epochNs;
    private long _deadlineNs;
    private ulong _jitterState;
    private ulong _npagesLimit;
    private ulong _nunpurged;
    private BacklogBuffer _backlog;

    /// <summary>Creates a decay schedule whose first epoch starts at <paramref name="nowNs"/>.</summary>
    /// <param name="nowNs">The current time in nanoseconds.</param>
    /// <param name="decayMs">The decay time: <see cref="Never"/>, <see cref="Immediately"/>, or up to <see cref="MaxDecayMs"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="decayMs"/> is not valid.</exception>
    public DecayTracker(long nowNs, long decayMs)
    {
        Reinit(nowNs, decayMs);
    }

    /// <summary>The lock that guards this object (jemalloc's decay mutex, rank CORE: taken before any extent-cache lock).</summary>
    internal RankedLock Lock { get; } = new(LockRank.Decay);

    /// <summary>True while a thread purges on this schedule's behalf with <see cref="Lock"/> released; others then skip purging.</summary>
    public bool Purging { get; set; }

    /// <summary>The decay time in milliseconds. Readable without the lock.</summary>
    public long DecayMs => Volatile.Read(ref _decayMs);

    /// <summary>True when pages decay over time (decay time above zero); readable without the lock.</summary>
    public bool IsGradual => DecayMs > 0;

    /// <summary>The length of one epoch in nanoseconds (decay time / 200); 0 unless <see cref="IsGradual"/>.</summary>
    public long IntervalNs => _intervalNs;

    /// <summary>The start of the current epoch, in nanoseconds.</summary>
    public long EpochNs => _epochNs;

    /// <summary>The time at or after which the next <see cref="MaybeAdvanceEpoch"/> advances the epoch.</summary>
    public long DeadlineNs => _deadlineNs;

    /// <summary>How many unused pages may stay in the cache now; purge down to this.</summary>
    public ulong NpagesLimit => _npagesLimit;

    /// <summary>The page count at the last epoch advance, or the limit if that was higher; the baseline for the next epoch's new pages.</summary>
    public ulong Nunpurged => _nunpurged;

    /// <summary>The pages added in each of the last 200 epochs, oldest first; the last slot is the current epoch's.</summary>
    public ReadOnlySpan<ulong> Backlog => _backlog;

    /// <summary>Tells whether <paramref name="decayMs"/> is a valid decay time: -1, 0, or 1 to <see cref="MaxDecayMs"/>.</summary>
    /// <param name="decayMs">A decay time in milliseconds.</param>
    /// <returns>True when valid.</returns>
    public static bool IsValidDecayMs(long decayMs) => decayMs >= Never && decayMs <= MaxDecayMs;

    /// <summary>
    /// Sets a new decay time and restarts the schedule at <paramref name="nowNs"/>: the backlog is
    /// emptied and the jitter sequence restarts from its seed.
    /// </summary>
    /// <param name="nowNs">The current time in nanoseconds.</param>
    /// <param name="decayMs">The decay time: <see cref="Never"/>, <see cref="Immediately"/>, or up to <see cref="MaxDecayMs"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="decayMs"/> is not valid.</exception>
    public void Reinit(long nowNs, long decayMs)
    {
        if (!IsValidDecayMs(decayMs))
        {
            throw new ArgumentOutOfRangeException(nameof(decayMs), decayMs, "A decay time is -1 (never), 0 (immediately) or a positive number of milliseconds up to DecayTracker.MaxDecayMs.");
        }

        Volatile.Write(ref _decayMs, decayMs);
        // Epochs exist only for gradual decay; a zero interval makes that visible.
        _intervalNs = decayMs > 0 ? decayMs * NsPerMs / Steps : 0;
        _epochNs = nowNs;
        _jitterState = JitterSeed;
        SetDeadline();
        // The limit is left as it was, as jemalloc leaves it: pages cached under the old setting are
        // not purged wholesale at once, only once the next epoch recomputes the limit.
        _nunpurged = 0;
        ((Span<ulong>)_backlog).Clear();
    }

    /// <summary>
    /// Moves the schedule forward if the epoch deadline has passed: records the pages added since
    /// the last advance and recomputes <see cref="NpagesLimit"/>.
    /// </summary>
    /// <param name="nowNs">The current time in nanoseconds. If it is before the current epoch's start
    /// (a clock that went backwards), the epoch restarts at <paramref name="nowNs"/> with a new
    /// deadline, as jemalloc does for non-monotonic clocks, and nothing advances.</param>
    /// <param name="currentNpages">How many unused pages the cache holds now.</param>
    /// <returns>True when at least one epoch passed; always false unless <see cref="IsGradual"/>.</returns>
    public bool MaybeAdvanceEpoch(long nowNs, ulong currentNpages)
    {
        if (_intervalNs == 0)
        {
            return false;
        }

        if (nowNs < _epochNs)
        {
            // Time went backwards. Trust the new reading and start the epoch over; time usually runs
            // forward long enough for epochs to complete.
            _epochNs = nowNs;
            SetDeadline();
        }

        if (nowNs < _deadlineNs)
        {
            return false;
        }

        // The deadline is at least one interval past the epoch start, so this is at least 1.
        long nadvance = (nowNs - _epochNs) / _intervalNs;
        _epochNs += nadvance * _intervalNs;
        SetDeadline();
        ShiftBacklog(nadvance, currentNpages);
        _npagesLimit = BacklogLimit();
        _nunpurged = Math.Max(_npagesLimit, currentNpages);
        return true;
    }

    /// <summary>
    /// How many of <paramref name="npagesNew"/> pages added now will have been purged after
    /// <paramref name="timeNs"/> more nanoseconds, if nothing else changes.
    /// </summary>
    /// <param name="timeNs">A duration in nanoseconds; negative counts as zero.</param>
    /// <param name="npagesNew">Pages that became unused now.</param>
    /// <returns>The pages purged by then. With decay <see cref="Immediately"/> all of them, with <see cref="Never"/> none.</returns>
    public ulong NpagesPurgeIn(long timeNs, ulong npagesNew)
    {
        if (_intervalNs == 0)
        {
            return DecayMs == Immediately ? npagesNew : 0;
        }

        long epochs = Math.Max(timeNs, 0) / _intervalNs;
        if (epochs >= Steps)
        {
            return npagesNew;
        }

        // New pages sit in the last slot (fraction 1.0 kept); after n epochs they may keep h[199 - n].
        ulong purgedFraction = Smoothstep.One - Smoothstep.At(Steps - 1 - (int)epochs);
        return (npagesNew * purgedFraction) >> Smoothstep.FractionBits;
    }

    /// <summary>
    /// How long to wait until more than <paramref name="npagesThreshold"/> pages can be purged, for a
    /// background purger deciding when to wake up.
    /// </summary>
    /// <param name="npagesCurrent">How many unused pages the cache holds now.</param>
    /// <param name="npagesThreshold">The least number of pages worth waking up for.</param>
    /// <returns>
    /// Nanoseconds, at least two intervals (so the next deadline has surely passed) and at most
    /// the decay time; <see cref="UnboundedTimeToPurge"/> when decay is not gradual or nothing is
    /// tracked.
    /// </returns>
    public long NsUntilPurge(ulong npagesCurrent, ulong npagesThreshold)
    {
        if (_intervalNs == 0)
        {
            return UnboundedTimeToPurge;
        }

        if (npagesCurrent == 0 && ((ReadOnlySpan<ulong>)_backlog).IndexOfAnyExcept(0UL) < 0)
        {
            return UnboundedTimeToPurge;
        }

        if (npagesCurrent <= npagesThreshold)
        {
            return _intervalNs * Steps;
        }

        // Binary search over whole epochs for the first wait that purges more than the threshold.
        int low = 2;
        int high = Steps;
        ulong purgedLow = PurgedAfter(low);
        if (purgedLow > npagesThreshold)
        {
            return _intervalNs * low;
        }

        ulong purgedHigh = PurgedAfter(high);
        if (purgedHigh < npagesThreshold)
        {
            return _intervalNs * high;
        }

        // Stop once the bracket is two epochs wide or its ends differ by no more than the threshold:
        // the midpoint is then close enough for a wake-up time.
        while (high - low > 2 && purgedHigh - purgedLow > npagesThreshold)
        {
            int middle = (low + high) / 2;
            ulong purged = PurgedAfter(middle);
            if (purged > npagesThreshold)
            {
                high = middle;
                purgedHigh = purged;
            }
            else
            {
                low = middle;
                purgedLow = purged;
            }
        }

        // interval * (low + high) / 2 without overflowing for the largest decay times.
        int sum = low + high;
        return (_intervalNs * (sum / 2)) + ((sum & 1) != 0 ? _intervalNs / 2 : 0);
    }

    private void SetDeadline()
    {
        _deadlineNs = _epochNs + _intervalNs;
        if (_intervalNs > 0)
        {
            _deadlineNs += (long)RandomBelow((ulong)_intervalNs);
        }
    }

    // Uniform in [0, range): draw ceil(lg range) top bits of the next LCG state until one fits
    // (at most two draws expected). The top bits of an LCG are its most random ones.
    private ulong RandomBelow(ulong range)
    {
        if (range <= 1)
        {
            return 0;
        }

        int bits = 64 - BitOperations.LeadingZeroCount(range - 1);
        ulong value;
        do
        {
            _jitterState = unchecked((_jitterState * LcgMultiplier) + LcgIncrement);
            value = _jitterState >> (64 - bits);
        }
        while (value >= range);
        return value;
    }

    private void ShiftBacklog(long nadvance, ulong currentNpages)
    {
        Span<ulong> backlog = _backlog;
        if (nadvance >= Steps)
        {
            // Everything recorded has aged past the end of the curve.
            backlog[..(Steps - 1)].Clear();
        }
        else
        {
            int shift = (int)nadvance;
            backlog[shift..].CopyTo(backlog);
            // Epochs that passed without an advance call added nothing; the last slot is set below.
            backlog.Slice(Steps - shift, shift - 1).Clear();
        }

        // Pages added since the last advance; pages purged meanwhile lowered the count, not the backlog.
        backlog[Steps - 1] = currentNpages > _nunpurged ? currentNpages - _nunpurged : 0;
    }

    // What the backlog may keep now (the sum of slot times curve) is exactly what a whole decay
    // time more would purge.
    private ulong BacklogLimit() => PurgedAfter(Steps);

    // Pages purged after waiting `epochs` more epochs: slot i may keep h[i] now and h[i - epochs]
    // then (nothing once it ages off the curve).
    private ulong PurgedAfter(int epochs)
    {
        ReadOnlySpan<ulong> backlog = _backlog;
        ReadOnlySpan<ulong> curve = Smoothstep.Table;
        ulong sum = 0;
        for (int i = 0; i < Steps; i++)
        {
            ulong keptLater = i >= epochs ? curve[i - epochs] : 0;
            sum += backlog[i] * (curve[i] - keptLater);
        }

        return sum >> Smoothstep.FractionBits;
    }

    /// <summary>The 200 backlog slots, stored inline in the <see cref="DecayTracker"/> object.</summary>
    [InlineArray(Steps)]
    private struct BacklogBuffer
    {
        private ulong _element;
    }
}
