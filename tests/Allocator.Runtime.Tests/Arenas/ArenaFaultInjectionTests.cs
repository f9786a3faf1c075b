using System;
using System.Collections.Generic;
using Allocator.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Allocator.Tests.Arenas;

/// <summary>
/// Systematic fault injection through the public API: for each scripted workload and each hook,
/// fail the N-th call for every N the workload makes. The only visible effect may be the
/// documented one (null from TryAllocate, OutOfMemoryException from Allocate, a purge that does
/// less); the arena validates, every live block keeps its contents, and Dispose gives every
/// mapping back.
/// </summary>
public sealed unsafe class ArenaFaultInjectionTests
{
    public enum Workload { Small, Large, Realloc, Guarded, ResetAndPurge }

    private static readonly HookKind[] Kinds =
        { HookKind.Alloc, HookKind.Commit, HookKind.Decommit, HookKind.PurgeLazy, HookKind.PurgeForced, HookKind.Split, HookKind.Merge, HookKind.Dalloc };

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
        var probe = new TestExtentHooks(retain);
        Run(probe, workload, retain, armed: null);
        foreach (HookKind kind in Kinds)
        {
            long calls = probe.Called(kind);
            for (int n = 1; n <= calls; n++)
            {
                var hooks = new TestExtentHooks(retain);
                Run(hooks, workload, retain, armed: (kind, n));
            }
        }
    }

    private static void Run(TestExtentHooks hooks, Workload workload, bool retain, (HookKind Kind, int N)? armed)
    {
        var arena = Arena.Create(new ArenaOptions
        {
            Hooks = hooks,
            Retain = retain,
            TimeProvider = new FakeTimeProvider(),
            DirtyDecayMs = workload == Workload.ResetAndPurge ? 0 : -1,
            MuzzyDecayMs = -1,
            GuardSmallEvery = workload == Workload.Guarded ? 1 : 0,
            GuardLargeEvery = workload == Workload.Guarded ? 1 : 0,
            ThreadCache = workload != Workload.Realloc,
        });
        // Faults start after construction: the arena's own metadata was mapped by then.
        hooks.ResetCounts();
        if (armed is { } a) hooks.FailAt(a.Kind, a.N);
        var live = new List<(nint P, nuint Size, byte Tag)>();
        var rng = new Random(5);
        try
        {
            for (int step = 0; step < 40; step++)
            {
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
                        // The same request through Allocate fails the documented way (or succeeds now).
                        try
                        {
                            p = (byte*)arena.Allocate(size);
                        }
                        catch (OutOfMemoryException)
                        {
                            continue;
                        }
                    }

                    byte tag = (byte)(step + 1);
                    new Span<byte>(p, (int)size).Fill(tag);
                    live.Add(((nint)p, size, tag));
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
                    catch (OutOfMemoryException)
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
            arena.Dispose();
        }

        Assert.Empty(hooks.Anomalies);
        Assert.Equal((nuint)0, hooks.MappedBytes);
    }

    private static void Check((nint P, nuint Size, byte Tag) l) =>
        Assert.True(new ReadOnlySpan<byte>((void*)l.P, (int)l.Size).IndexOfAnyExcept(l.Tag) < 0, "a live block's contents changed");
}
