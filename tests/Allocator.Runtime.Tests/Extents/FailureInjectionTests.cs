using System;
using System.Collections.Generic;
using Allocator.Extents;
using Allocator.Tests.Infrastructure;

namespace Allocator.Tests.Extents;

/// <summary>
/// Fails the N-th call of one hook, for every N a scripted workload makes, and checks that the
/// shard only ever reports out-of-memory, stays consistent, keeps every live block's contents,
/// and gives every mapping back when destroyed.
/// </summary>
public sealed unsafe class FailureInjectionTests
{
    private static readonly nuint Page = Shard.Page;

    public static TheoryData<HookKind, bool> Cases()
    {
        var data = new TheoryData<HookKind, bool>();
        foreach (bool retain in new[] { true, false })
        {
            foreach (HookKind k in new[] { HookKind.Alloc, HookKind.Split, HookKind.Merge, HookKind.Commit, HookKind.Decommit, HookKind.PurgeLazy, HookKind.PurgeForced, HookKind.Dalloc })
                data.Add(k, retain);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FailingTheNthCallOfAHookNeverCorruptsOrLeaks(HookKind kind, bool retain)
    {
        long calls;
        {
            var probe = new TestExtentHooks(retain);
            Run(probe, retain);
            calls = probe.Called(kind);
        }

        for (int n = 1; n <= calls; n++)
        {
            var hooks = new TestExtentHooks(retain);
            hooks.FailAt(kind, n);
            Run(hooks, retain);
            Assert.True(hooks.Refused(kind) >= 1 || hooks.Called(kind) < n, $"the {n}-th {kind} call was not failed");
        }
    }

    [Fact]
    public void EveryHookFailingAtOnceStillLeavesAConsistentShard()
    {
        foreach (bool retain in new[] { true, false })
        {
            var hooks = new TestExtentHooks(retain);
            Run(hooks, retain, beforeStep: step =>
            {
                bool fail = step % 3 == 1;
                foreach (HookKind k in new[] { HookKind.Split, HookKind.Merge, HookKind.Commit, HookKind.Decommit, HookKind.PurgeLazy, HookKind.PurgeForced })
                    hooks.SetTry(k, !fail);
            });
        }
    }

    private static void Run(TestExtentHooks hooks, bool retain, Action<int>? beforeStep = null)
    {
        var shard = new Shard(hooks, retain: retain, dirtyDecayMs: -1, muzzyDecayMs: -1);
        var live = new List<(nint E, byte Tag)>();
        var rng = new Random(11);
        try
        {
            for (int step = 0; step < 60; step++)
            {
                beforeStep?.Invoke(step);
                int r = rng.Next(12);
                if (r < 5 || live.Count == 0)
                {
                    nuint pages = (nuint)(rng.Next(5) == 0 ? rng.Next(64, 600) : rng.Next(1, 24));
                    nuint align = Page << rng.Next(0, 3);
                    Edata* e = shard.Alloc(pages, align);
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
                    if (e->Size > Page && !shard.Pac.Shrink(e, e->Size, e->Size - Page)) Assert.True(e->Size > Page);
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
