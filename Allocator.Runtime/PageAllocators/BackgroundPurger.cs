using System;
using System.Collections.Generic;
using System.Threading;
using Allocator.Hpa;
using Allocator.Threading;

namespace Allocator.PageAllocators;

/// <summary>
/// The process's one background purger (jemalloc's background thread): a thread that serves every
/// arena whose shard registered with it, sleeps until the nearest decay deadline among them (at
/// most a second), wakes early when an arena's dirty pages jump, and purges what is due, so freed
/// memory goes back to the OS although no application thread calls the allocator. For a shard with
/// the hugepage allocator it also hugifies pageslabs whose delay has passed and purges pageslabs to
/// their dirty limit, which the allocating threads then leave to it. The thread
/// starts with the first registered shard and ends with the last.
/// </summary>
public static class BackgroundPurger
{
    /// <summary>Dirty pages gained since the last pass above which an arena's tick wakes the purger early.</summary>
    public const long WakeThresholdPages = 1024;

    // With nothing scheduled, look again this often: a shard's first dirty pages do not always wake it.
    private static readonly TimeSpan s_idlePoll = TimeSpan.FromSeconds(1);

    // The shortest sleep between passes (unless woken): work that stays due after a pass, a purge the
    // OS refused say, must not make the thread spin.
    private static readonly TimeSpan s_minSleep = TimeSpan.FromMilliseconds(10);

    // Held across a whole pass, so a shard that unregisters (in its Dispose) waits for the pass
    // to finish with it before its memory goes.
    private static readonly RankedLock s_lock = new(LockRank.BackgroundPurge);
    private static readonly List<Registration> s_shards = [];
    private static readonly AutoResetEvent s_wake = new(false);
    private static Thread? s_thread;
    private static long s_passes;
    private static volatile bool s_enabled = Environment.GetEnvironmentVariable("ALLOCATOR_BACKGROUND_PURGE") != "0";

    /// <summary>
    /// Whether arenas created from now on register with the purger (default true; the environment
    /// variable <c>ALLOCATOR_BACKGROUND_PURGE=0</c> turns it off at start). Arenas already
    /// registered stay registered.
    /// </summary>
    public static bool Enabled
    {
        get => s_enabled;
        set => s_enabled = value;
    }

    /// <summary>Whether the purger thread is running now.</summary>
    public static bool IsRunning => Volatile.Read(ref s_thread) != null;

    /// <summary>How many passes the purger has run since the process started.</summary>
    public static long Passes => Interlocked.Read(ref s_passes);

    /// <summary>How many shards are registered now.</summary>
    public static int Count
    {
        get
        {
            using (s_lock.EnterScope()) return s_shards.Count;
        }
    }

    /// <summary>Runs a pass now instead of at the next deadline (tests that move a fake clock use it).</summary>
    public static void Wake() => s_wake.Set();

    /// <summary>Keeps every pass out until disposed (a consistency check must not race one).</summary>
    internal static RankedLock.Scope HoldOffPasses() => s_lock.EnterScope();

    internal static Registration Register(IPageAllocatorBackend backend, Func<long> dirtyPages, HpaShard? hugePages = null)
    {
        var registration = new Registration(backend, dirtyPages, hugePages);
        using (s_lock.EnterScope())
        {
            // The thread first: if it cannot start, nothing is registered and a later call tries again.
            StartFaultForTests?.Invoke();
            if (s_thread == null)
            {
                var thread = new Thread(Run) { IsBackground = true, Name = "Allocator background purge" };
                thread.Start();
                s_thread = thread;
            }

            s_shards.Add(registration);
        }

        return registration;
    }

    /// <summary>Test seam: when set, called where <see cref="Register"/> starts the thread; an exception it throws fails the registration.</summary>
    internal static Action? StartFaultForTests;

    internal static void Unregister(Registration registration)
    {
        using (s_lock.EnterScope()) s_shards.Remove(registration);
        s_wake.Set();
    }

    private static void Run()
    {
        while (true)
        {
            TimeSpan wait = s_idlePoll;
            using (s_lock.EnterScope())
            {
                if (s_shards.Count == 0)
                {
                    s_thread = null;
                    return;
                }

                foreach (Registration r in s_shards)
                {
                    long ns = Math.Min(r.Backend.TimeUntilDeferredWork(), r.HugePages?.TimeUntilDeferredWork() ?? long.MaxValue);
                    if (ns < wait.Ticks * 100) wait = TimeSpan.FromTicks(Math.Max(s_minSleep.Ticks, ns / 100));
                }
            }

            s_wake.WaitOne(wait);
            using (s_lock.EnterScope())
            {
                foreach (Registration r in s_shards)
                {
                    r.Backend.DoDeferredWork();
                    r.HugePages?.DoDeferredWork();
                    r.DirtyAtLastPass = r.DirtyPages();
                }
            }

            Interlocked.Increment(ref s_passes);
        }
    }

    /// <summary>One shard served by the purger: its classic backend's decay and, when on, its hugepage shard's hugifies and purges.</summary>
    internal sealed class Registration(IPageAllocatorBackend backend, Func<long> dirtyPages, HpaShard? hugePages)
    {
        public IPageAllocatorBackend Backend { get; } = backend;

        public HpaShard? HugePages { get; } = hugePages;

        public Func<long> DirtyPages { get; } = dirtyPages;

        public long DirtyAtLastPass;

        /// <summary>An allocation tick of the shard: wake the purger if dirty pages grew past the threshold since its last pass.</summary>
        public void OnTick()
        {
            if (DirtyPages() - Volatile.Read(ref DirtyAtLastPass) > WakeThresholdPages) s_wake.Set();
        }
    }
}
