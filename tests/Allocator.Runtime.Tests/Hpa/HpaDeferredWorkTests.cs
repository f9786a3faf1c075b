using System;
using System.Diagnostics;
using System.Threading;
using Allocator.Hpa;
using Allocator.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Allocator.Metadata;
using Allocator.PageAllocators;

namespace Allocator.Tests.Hpa;

/// <summary>
/// The hugepage shard's deferred work (hugify after the delay, purge to the dirty limit) moves to the
/// process's background purger when the arena has one, and stays inline on allocating threads otherwise.
/// </summary>
/// <remarks>In the process-wide collection: the purger thread and its list of shards are shared state.</remarks>
[Collection(ProcessWideCollection.Name)]
public sealed unsafe class HpaDeferredWorkTests
{
    private static readonly nuint Page = HpaShardFixture.Page;

    // Deadlines for a pass of the purger thread on a loaded machine; a pass takes microseconds.
    private static readonly TimeSpan PassDeadline = TimeSpan.FromSeconds(10);

    [Fact]
    public void A_deferred_shard_only_reports_due_work_and_does_it_when_asked()
    {
        using var f = new HpaShardFixture();
        int wakes = 0;
        f.Shard.DeferTo(() => wakes++);
        Assert.True(f.Shard.DeferralAllowed);

        // No purge interval and no active page: the freed page is over the dirty limit at once.
        f.Shard.Free(f.Shard.Alloc(Page, Page, zero: false));
        Assert.Equal(0, f.Hooks.Purges);
        Assert.Equal(1, wakes);
        Assert.Equal(0, f.Shard.TimeUntilDeferredWork());
        f.Shard.DoDeferredWork();
        Assert.Equal(1, f.Hooks.Purges);
        Assert.Equal(long.MaxValue, f.Shard.TimeUntilDeferredWork());

        // A full slab becomes a candidate; past the delay, allocating only wakes the worker again.
        int perSlab = (int)(HugePage.Size / HpaShardFixture.TestOptions.SlabMaxAlloc);
        var full = new nint[perSlab];
        for (int i = 0; i < perSlab; i++) full[i] = (nint)f.Shard.Alloc(HpaShardFixture.TestOptions.SlabMaxAlloc, Page, zero: false);
        Assert.InRange(f.Shard.TimeUntilDeferredWork(), 1, 10_000_000_000);
        f.Hooks.AdvanceMs(10_001);
        int wakesBefore = wakes;
        f.Shard.Free(f.Shard.Alloc(Page, Page, zero: false));
        Assert.Equal(0, f.Hooks.Hugifies);
        Assert.True(wakes > wakesBefore, "due work was not reported");
        f.Shard.DoDeferredWork();
        Assert.Equal(1, f.Hooks.Hugifies);
        foreach (nint e in full) f.Shard.Free((Edata*)e);
    }

    [Fact]
    public void The_background_purger_hugifies_on_the_shards_clock()
    {
        using var f = new HpaShardFixture();
        using var host = (Arena<RuntimeArenaPolicy>)Arena.Create(new ArenaOptions { TimeProvider = new FakeTimeProvider(), BackgroundPurge = false });
        BackgroundPurger.Registration registration = BackgroundPurger.Register(host.PageAllocator.Classic, static () => 0, f.Shard);
        try
        {
            f.Shard.DeferTo(BackgroundPurger.Wake);
            int perSlab = (int)(HugePage.Size / HpaShardFixture.TestOptions.SlabMaxAlloc);
            var full = new nint[perSlab];
            for (int i = 0; i < perSlab; i++) full[i] = (nint)f.Shard.Alloc(HpaShardFixture.TestOptions.SlabMaxAlloc, Page, zero: false);

            // Before the delay nothing is due: passes come and go without a hugify.
            long passes = BackgroundPurger.Passes;
            BackgroundPurger.Wake();
            WaitFor(() => BackgroundPurger.Passes > passes, "a pass");
            Assert.Equal(0, Volatile.Read(ref f.Hooks.Hugifies));

            f.Hooks.AdvanceMs(10_001);
            BackgroundPurger.Wake();
            WaitFor(() => Volatile.Read(ref f.Hooks.Hugifies) == 1, "the hugify");
            Assert.Equal(1, f.Shard.GetStats().HugePageslabs);
            foreach (nint e in full) f.Shard.Free((Edata*)e);
        }
        finally
        {
            BackgroundPurger.Unregister(registration);
        }
    }

    [Fact]
    public void With_background_purge_frees_leave_the_purge_to_the_purger_and_without_it_they_purge_inline()
    {
        if (!OperatingSystem.IsLinux()) return;
        ArenaOptions options = new()
        {
            HugePages = HugePageMode.Lazy, HugePageDirtyMult = 0, HugePageMinPurgeIntervalMs = 0, ThreadCache = false,
        };
        using var background = (Arena<RuntimeArenaPolicy>)Arena.Create(options with { BackgroundPurge = true });
        using var inline = (Arena<RuntimeArenaPolicy>)Arena.Create(options with { BackgroundPurge = false });
        Assert.True(background.PageAllocator.HugePageShard!.DeferralAllowed);
        Assert.False(inline.PageAllocator.HugePageShard!.DeferralAllowed);

        // Above the small extent cache's largest size, so each free reaches the shard.
        const int size = 48 << 10;
        Assert.Equal(0, FreeBlocks(inline, size));
        long dirty;
        // Passes held off: the purger would otherwise race the check, woken by the first free.
        using (BackgroundPurger.HoldOffPasses()) dirty = FreeBlocks(background, size);
        Assert.True(dirty > 0, "the free purged inline although the purger serves the arena");
        WaitFor(() => background.GetStats().Pages.HpaDirty == 0, "the purger's purge");
        background.Validate();
    }

    // Dirty hugepage pages right after freeing a burst of blocks (read without a lock: passes may be held off).
    private static long FreeBlocks(Arena<RuntimeArenaPolicy> arena, int size)
    {
        var blocks = new nint[16];
        for (int i = 0; i < blocks.Length; i++)
        {
            blocks[i] = (nint)arena.Allocate((nuint)size);
            new Span<byte>((void*)blocks[i], size).Fill(1);
        }

        foreach (nint p in blocks) arena.Free((void*)p);
        return arena.PageAllocator.HugePageShard!.DirtyPagesHint;
    }

    private static void WaitFor(Func<bool> condition, string what)
    {
        var since = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(since.Elapsed < PassDeadline, $"no {what} within {PassDeadline.TotalSeconds} s");
            Thread.Sleep(5);
        }
    }
}
