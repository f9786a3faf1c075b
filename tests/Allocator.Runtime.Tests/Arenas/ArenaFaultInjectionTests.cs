using System;
using System.Collections.Generic;
using Allocator.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Allocator.Tests.Arenas;

/// <summary>
/// Systematic fault injection through the public API: for each scripted workload and each hook
/// it claims, fail the N-th call for every N the workload makes. The only visible effect may be
/// the documented one (null from TryAllocate, OutOfMemoryException from Allocate, a purge that
/// does less); the arena validates, every live block keeps its contents, and Dispose gives every
/// mapping back. The hooks place mappings in a private reservation by request order, so every
/// run of a workload makes the same calls: each armed run must fail its call exactly once.
/// </summary>
/// <remarks>
/// Guard pages need the default hooks, so guarded workloads are faulted at the OS seam instead
/// (Hardening/OsFaultTests).
/// </remarks>
public sealed unsafe class ArenaFaultInjectionTests
{
    public enum Workload { Small, Large, Realloc, ResetAndPurge }

    // The kinds each workload reaches (the probe run must call each at least once). Commit and
    // decommit need retained space, which is really decommitted here; without retain freed
    // extents are unmapped instead. With retain the dalloc hook always refuses, so failing it
    // changes nothing and it is not claimed; nor is destroy, whose failure is not reported.
    private static HookKind[] Claimed(Workload workload, bool retain) => (workload, retain) switch
    {
        (Workload.Small, true) => new[] { HookKind.Alloc, HookKind.Commit, HookKind.Decommit, HookKind.PurgeForced, HookKind.Split, HookKind.Merge },
        (Workload.Small, false) => new[] { HookKind.Alloc, HookKind.PurgeForced, HookKind.Merge, HookKind.Dalloc },
        (Workload.Large, true) => new[] { HookKind.Alloc, HookKind.Commit, HookKind.Decommit, HookKind.Split, HookKind.Merge },
        (Workload.Large, false) => new[] { HookKind.Alloc, HookKind.Split, HookKind.Merge, HookKind.Dalloc },
        (Workload.Realloc, true) => new[] { HookKind.Alloc, HookKind.Commit, HookKind.Decommit, HookKind.PurgeForced, HookKind.Split, HookKind.Merge },
        (Workload.Realloc, false) => new[] { HookKind.Alloc, HookKind.PurgeForced, HookKind.Split, HookKind.Merge, HookKind.Dalloc },
        (Workload.ResetAndPurge, true) => new[] { HookKind.Alloc, HookKind.Commit, HookKind.Decommit, HookKind.PurgeLazy, HookKind.PurgeForced, HookKind.Split, HookKind.Merge },
        _ => new[] { HookKind.Alloc, HookKind.PurgeLazy, HookKind.PurgeForced, HookKind.Split, HookKind.Merge, HookKind.Dalloc },
    };

    public static TheoryData<Workload, bool> Cases()
    {
        var data = new TheoryData<Workload, bool>();
        foreach (Workload w in Enum.GetValues<Workload>())
        {
            data.Add(w, true);
            data.Add(w, false);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FailingAnyHookCallLeavesTheArenaConsistentAndLeaksNothing(Workload workload, bool retain)
    {
        // Two probe runs make the same calls: placement decides adjacency, and it is fixed.
        TestExtentHooks probe = Run(workload, retain, armed: null);
        TestExtentHooks again = Run(workload, retain, armed: null);
        foreach (HookKind kind in Enum.GetValues<HookKind>())
        {
            Assert.Equal(0, probe.Refused(kind));
            Assert.True(probe.Called(kind) == again.Called(kind), $"{kind}: {probe.Called(kind)} calls in one probe run, {again.Called(kind)} in the other");
        }

        foreach (HookKind kind in Claimed(workload, retain))
        {
            long calls = probe.Called(kind);
            Assert.True(calls > 0, $"the {workload} workload never calls the {kind} hook");
            for (int n = 1; n <= calls; n++)
            {
                TestExtentHooks hooks = Run(workload, retain, armed: (kind, n));
                Assert.True(hooks.Refused(kind) == 1, $"the {n}-th {kind} call was failed {hooks.Refused(kind)} times, not once ({hooks.Called(kind)} calls)");
            }
        }
    }

    // Without armed, a probe run: nothing fails, so every request must be served.
    private static TestExtentHooks Run(Workload workload, bool retain, (HookKind Kind, int N)? armed)
    {
        using var placement = new AddressReservation();
        var hooks = new TestExtentHooks(retain, reportUncommitted: true, placement);
        var clock = new FakeTimeProvider();
        var arena = Arena.Create(new ArenaOptions
        {
            Hooks = hooks,
            Retain = retain,
            TimeProvider = clock,
            DirtyDecayMs = workload == Workload.ResetAndPurge ? 0 : -1,
            // Freed pages of the reset workload decay through muzzy on the fake clock: lazy purges.
            MuzzyDecayMs = workload == Workload.ResetAndPurge ? 1_000 : -1,
            ThreadCache = workload != Workload.Realloc,
        });
        // Faults start after construction: the arena's own metadata was mapped by then.
        hooks.ResetCounts();
        if (armed is { } a) hooks.FailAt(a.Kind, a.N);
        var live = new List<(nint P, nuint Size, byte Tag)>();
        var rng = new Random(5);
        try
        {
            // Resets and purges make many calls per step: fewer steps keep the case as quick as the others.
            int steps = workload == Workload.ResetAndPurge ? 16 : 40;
            for (int step = 0; step < steps; step++)
            {
                clock.Advance(TimeSpan.FromMilliseconds(300));
                nuint size = workload switch
                {
                    Workload.Small => (nuint)rng.Next(1, 3000),
                    Workload.Large => (nuint)rng.Next(16_000, 400_000),
                    _ => (nuint)(rng.Next(3) == 0 ? rng.Next(16_000, 200_000) : rng.Next(1, 5000)),
                };
                int r = rng.Next(10);
                if (r < 5 || live.Count == 0)
                {
                    byte* p = (byte*)arena.TryAllocate(size);
                    if (p == null)
                    {
                        Assert.True(armed != null, $"the probe run got null for {size} bytes at step {step}");
                        // The same request through Allocate fails the documented way (or succeeds now).
                        try
                        {
                            p = (byte*)arena.Allocate(size);
                        }
                        catch (OutOfMemoryException)
                        {
                            p = null;
                        }
                    }

                    if (p != null)
                    {
                        byte tag = (byte)(step + 1);
                        new Span<byte>(p, (int)size).Fill(tag);
                        live.Add(((nint)p, size, tag));
                    }
                }
                else if (r < 7 || workload != Workload.Realloc && r < 8)
                {
                    int k = rng.Next(live.Count);
                    Check(live[k]);
                    arena.Free((void*)live[k].P);
                    live.RemoveAt(k);
                }
                else if (r < 9)
                {
                    int k = rng.Next(live.Count);
                    var (p, s, t) = live[k];
                    try
                    {
                        byte* q = (byte*)arena.Reallocate((void*)p, size);
                        Assert.True(new ReadOnlySpan<byte>(q, (int)Math.Min(s, size)).IndexOfAnyExcept(t) < 0);
                        new Span<byte>(q, (int)size).Fill(t);
                        live[k] = ((nint)q, size, t);
                    }
                    catch (OutOfMemoryException) when (armed != null)
                    {
                        Check(live[k]);
                    }
                }
                else if (workload == Workload.ResetAndPurge && step % 2 == 0)
                {
                    arena.Reset();
                    live.Clear();
                }
                else
                {
                    arena.Purge();
                }

                foreach (var l in live) Check(l);
                arena.Validate();
            }
        }
        finally
        {
            // Teardown runs with the fault still armed: destroying must cope with refusing hooks too.
            arena.Dispose();
        }

        Assert.Empty(hooks.Anomalies);
        Assert.Equal((nuint)0, hooks.MappedBytes);
        return hooks;
    }

    private static void Check((nint P, nuint Size, byte Tag) l) =>
        Assert.True(new ReadOnlySpan<byte>((void*)l.P, (int)l.Size).IndexOfAnyExcept(l.Tag) < 0, "a live block's contents changed");
}
