using System;
using System.Collections.Generic;
using Allocator.Metadata;
using Allocator.PageAllocators;
using Allocator.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Allocator.Tests.Extents;

/// <summary>
/// Fails the N-th call of one hook, for every N a scripted workload makes, and checks that the
/// shard only ever reports out-of-memory, stays consistent, keeps every live block's contents,
/// and gives every mapping back when destroyed. The hooks map uncommitted memory and decommit for
/// real, and freed pages decay through muzzy on a fake clock, so commit, decommit and lazy purges
/// are reached on an overcommitting host too.
/// </summary>
public sealed unsafe class FailureInjectionTests
{
    private static readonly nuint Page = Shard.Page;

    public static TheoryData<HookKind, bool> Cases()
    {
        var data = new TheoryData<HookKind, bool>();
        foreach (bool retain in new[] { true, false })
        {
            foreach (HookKind k in Claimed(retain)) data.Add(k, retain);
        }

        return data;
    }

    // Without retain a freed extent is unmapped by the dalloc hook: nothing is decommitted, purged
    // by force or committed again unless an unmap failed, which a single fault does not reach.
    private static HookKind[] Claimed(bool retain) => retain
        ? new[] { HookKind.Alloc, HookKind.Split, HookKind.Merge, HookKind.Commit, HookKind.Decommit, HookKind.PurgeLazy, HookKind.PurgeForced, HookKind.Dalloc }
        : new[] { HookKind.Alloc, HookKind.Split, HookKind.Merge, HookKind.PurgeLazy, HookKind.Dalloc };

    [Theory]
    [MemberData(nameof(Cases))]
    public void FailingTheNthCallOfAHookNeverCorruptsOrLeaks(HookKind kind, bool retain)
    {
        // Mappings are placed by request order in a private reservation, so every run makes the
        // same calls: two probe runs agree, and each armed run fails its call exactly once.
        // A forced purge is the fallback of a failed decommit: its cases use hooks whose decommit
        // fails, as on an overcommitting host.
        bool uncommitted = kind != HookKind.PurgeForced;
        TestExtentHooks probe = Run(retain, uncommitted, probe: true);
        TestExtentHooks again = Run(retain, uncommitted, probe: true);
        Assert.Equal(0, probe.Refused(kind));
        long calls = probe.Called(kind);
        Assert.Equal(calls, again.Called(kind));
        Assert.True(calls > 0, $"the workload never calls the {kind} hook");

        for (int n = 1; n <= calls; n++)
        {
            TestExtentHooks hooks = Run(retain, uncommitted, armed: (kind, n));
            Assert.True(hooks.Refused(kind) == 1, $"the {n}-th {kind} call was failed {hooks.Refused(kind)} times, not once ({hooks.Called(kind)} calls)");
        }
    }

    [Fact]
    public void EveryHookFailingAtOnceStillLeavesAConsistentShard()
    {
        foreach (bool retain in new[] { true, false })
        {
            using var placement = new AddressReservation();
            var hooks = new TestExtentHooks(retain, placement: placement);
            Run(hooks, retain, beforeStep: step =>
            {
                bool fail = step % 3 == 1;
                foreach (HookKind k in new[] { HookKind.Split, HookKind.Merge, HookKind.Commit, HookKind.Decommit, HookKind.PurgeLazy, HookKind.PurgeForced })
                    hooks.SetTry(k, !fail);
            });
        }
    }

    // One run on its own reservation, the n-th call of one kind failed when armed.
    private static TestExtentHooks Run(bool retain, bool uncommitted, bool probe = false, (HookKind Kind, int N)? armed = null)
    {
        using var placement = new AddressReservation();
        var hooks = new TestExtentHooks(retain, uncommitted, placement);
        if (armed is { } a) hooks.FailAt(a.Kind, a.N);
        Run(hooks, retain, probe: probe);
        return hooks;
    }

    // A probe run fails nothing, so every allocation must succeed.
    private static void Run(TestExtentHooks hooks, bool retain, Action<int>? beforeStep = null, bool probe = false)
    {
        var clock = new FakeTimeProvider();
        var shard = new Shard(hooks, retain: retain, dirtyDecayMs: 0, muzzyDecayMs: 1_000, time: clock);
        var live = new List<(nint E, byte Tag)>();
        var rng = new Random(11);
        try
        {
            for (int step = 0; step < 40; step++)
            {
                beforeStep?.Invoke(step);
                clock.Advance(TimeSpan.FromMilliseconds(200));
                shard.Pac.Decay(DecayEagerness.OnEpochAdvance);
                int r = rng.Next(12);
                if (r < 5 || live.Count == 0)
                {
                    nuint pages = (nuint)(rng.Next(5) == 0 ? rng.Next(64, 600) : rng.Next(1, 24));
                    nuint align = Page << rng.Next(0, 3);
                    Edata* e = shard.Alloc(pages, align);
                    Assert.True(e != null || !probe, $"the probe run got no extent of {pages} pages at step {step}");
                    if (e != null)
                    {
                        byte tag = (byte)(step + 1);
                        new Span<byte>(e->Address, (int)e->Size).Fill(tag);
                        live.Add(((nint)e, tag));
                    }
                }
                else if (r < 8)
                {
                    int k = rng.Next(live.Count);
                    Check(live[k]);
                    shard.Free((Edata*)live[k].E);
                    live.RemoveAt(k);
                }
                else if (r < 10)
                {
                    var (h, tag) = live[rng.Next(live.Count)];
                    var e = (Edata*)h;
                    nuint old = e->Size;
                    if (shard.Pac.Expand(e, old, old + (nuint)rng.Next(1, 16) * Page, zero: false))
                        new Span<byte>((byte*)e->Address + old, (int)(e->Size - old)).Fill(tag);
                    else Assert.Equal(old, e->Size);
                }
                else if (r < 11)
                {
                    var (h, _) = live[rng.Next(live.Count)];
                    var e = (Edata*)h;
                    nuint old = e->Size;
                    if (old > Page) Assert.Equal(shard.Pac.Shrink(e, old, old - Page) ? old - Page : old, e->Size);
                }
                else
                {
                    shard.Pac.PurgeAll();
                }

                foreach (var l in live) Check(l);
                shard.Validate();
            }
        }
        finally
        {
            // Destroy runs with the fault still armed: tearing down must cope with refusing hooks too.
            shard.Dispose();
        }

        Assert.Empty(hooks.Anomalies);
        Assert.Equal((nuint)0, hooks.MappedBytes);
    }

    private static void Check((nint E, byte Tag) l)
    {
        var e = (Edata*)l.E;
        Assert.True(new ReadOnlySpan<byte>(e->Address, (int)e->Size).IndexOfAnyExcept(l.Tag) < 0, "a live extent's contents changed");
    }
}
