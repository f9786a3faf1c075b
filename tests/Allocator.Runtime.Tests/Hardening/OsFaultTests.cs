using System;
using System.Collections.Generic;
using Allocator.Os;
using Allocator.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Allocator.Tests.Hardening;

/// <summary>
/// The OS itself failing under a guarded workload with the default hooks: mmap returning
/// MAP_FAILED, commit and decommit failing, madvise and mprotect refusing, at every call the
/// workload makes, in turn. Pages behave as on a host that does not overcommit, so commit and
/// decommit are real calls here too; the workload lets freed pages decay through muzzy on a fake
/// clock, so lazy purges happen. The test thread's mappings are placed by request order in a
/// private reservation (<see cref="ReservedPagePlacement"/>), so every run makes the same calls
/// on the same addresses: each armed run fails its call exactly once, with no retry.
/// </summary>
[Collection(ProcessWideCollection.Name)]
public sealed unsafe class OsFaultTests
{
    // Without retain freed extents are unmapped (never failed), so nothing is decommitted and
    // nothing is committed again. Unprotect comes from freeing a guarded large block (both) and
    // from decaying a guarded slab before it is unmapped (without retain).
    private static OsCall[] Claimed(bool retain) => retain
        ? new[] { OsCall.Map, OsCall.Commit, OsCall.Decommit, OsCall.PurgeLazy, OsCall.PurgeForced, OsCall.Protect, OsCall.Unprotect }
        : new[] { OsCall.Map, OsCall.PurgeLazy, OsCall.PurgeForced, OsCall.Protect, OsCall.Unprotect };

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FailingAnyOsCallOfAGuardedWorkloadSurfacesAsDocumentedAndLeavesNothingMapped(bool retain)
    {
        Pages.StrictCommitForTests = true;
        try
        {
            // Two probe runs make the same calls, in the same order, and place the same mappings.
            RunResult probe = Run(retain, null);
            RunResult again = Run(retain, null);
            Assert.Equal(probe.Calls, again.Calls);
            Assert.Equal(probe.Maps, again.Maps);
            Assert.True(probe.StepsWithGuards > 0, "the probe run never had a guard page in place");
            foreach (OsCall kind in Claimed(retain))
                Assert.True(probe.Count(kind) > 0, $"the workload never makes a {kind} call ({string.Join(", ", probe.Calls)})");

            foreach (OsCall kind in Claimed(retain))
            {
                int firedUnderGuards = 0;
                for (int n = 1; n <= probe.Count(kind); n++)
                {
                    RunResult armed = Run(retain, (kind, n));
                    Assert.True(armed.Fired == 1, $"the {n}-th {kind} call was failed {armed.Fired} times, not once ({armed.Count(kind)} calls of that kind)");
                    // Up to the failed call the armed run made exactly the probe's calls.
                    Assert.Equal(probe.Calls.GetRange(0, armed.FiredAt + 1), armed.Calls.GetRange(0, armed.FiredAt + 1));
                    // Protection calls come only from guards, and each refusal is counted where the arena reports it.
                    if (kind is OsCall.Protect or OsCall.Unprotect)
                        Assert.True(armed.ProtectRefusals == 1, $"the failed {n}-th {kind} call shows as {armed.ProtectRefusals} protect refusals");
                    if (armed.GuardsWhenFired) firedUnderGuards++;
                }

                Assert.True(firedUnderGuards > 0, $"no failed {kind} call hit the arena while it had guard pages");
            }
        }
        finally
        {
            Pages.StrictCommitForTests = false;
        }
    }

    // Calls: every OS call of the run's thread after the arena was made, in order. FiredAt: the
    // failed call's place in it. Maps: every mapping placed, from the map's first leaf on.
    private sealed record RunResult(
        int Fired, int FiredAt, List<OsCall> Calls, List<(nuint Hint, nuint Size, nuint Address)> Maps,
        int StepsWithGuards, bool GuardsWhenFired, long ProtectRefusals)
    {
        public int Count(OsCall kind) => Calls.FindAll(c => c == kind).Count;
    }

    // Without armed, a probe run: every call is counted and none fails, and the workload must
    // then get every block it asks for. Otherwise the n-th call of one kind fails.
    private static RunResult Run(bool retain, (OsCall Kind, int N)? armed)
    {
        // A private map, so every byte this run maps (extents, guards, metadata, map leaves) is
        // accounted and placed: afterwards the process maps exactly what it mapped before.
        long mappedBefore = Pages.MappedBytes;
        using ReservedPagePlacement placement = ReservedPagePlacement.Install();
        var clock = new FakeTimeProvider();
        var map = new Allocator.Map.ExtentMap();
        var arena = Arena.Create(new ArenaOptions
        {
            Map = map,
            Retain = retain,
            TimeProvider = clock,
            GuardSmallEvery = 1,
            GuardLargeEvery = 1,
            DirtyDecayMs = 0,
            MuzzyDecayMs = 1_000,
            ThreadCache = false,
        });
        var live = new List<(nint P, nuint Size, byte Tag)>();
        var rng = new Random(9);
        var calls = new List<OsCall>();
        int fired = 0, firedAt = -1, seen = 0, stepsWithGuards = 0;
        bool guardsWhenFired = false;
        // Only this thread's calls: a finalizer flushing another test's cache must not take the counted call.
        int thread = Environment.CurrentManagedThreadId;
        Pages.FaultInjector = call =>
        {
            if (Environment.CurrentManagedThreadId != thread) return false;
            calls.Add(call);
            if (armed is not { } a || call != a.Kind || ++seen != a.N) return false;
            fired++;
            firedAt = calls.Count - 1;
            return true;
        };
        try
        {
            for (int step = 0; step < 40; step++)
            {
                bool guarded = GuardPagesInPlace(arena, placement);
                if (guarded) stepsWithGuards++;
                int firedBefore = fired;
                clock.Advance(TimeSpan.FromMilliseconds(300));
                nuint size = (nuint)(rng.Next(3) == 0 ? rng.Next(16_385, 200_000) : rng.Next(1, 6000));
                int r = rng.Next(6);
                if (r < 4 || live.Count == 0)
                {
                    byte* p = (byte*)arena.TryAllocate(size);
                    if (p == null)
                    {
                        Assert.True(armed != null, $"the probe run got null for {size} bytes at step {step}");
                        // The fault was one call: asking again through Allocate either works or fails as documented.
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
                else if (r < 5)
                {
                    int k = rng.Next(live.Count);
                    arena.Free((void*)live[k].P);
                    live.RemoveAt(k);
                }
                else
                {
                    arena.Purge();
                }

                if (fired != firedBefore) guardsWhenFired = guarded;
                foreach (var (p, s, t) in live) Assert.True(new ReadOnlySpan<byte>((void*)p, (int)s).IndexOfAnyExcept(t) < 0, "a live block's contents changed");
                arena.Validate();
            }
        }
        finally
        {
            // Teardown is not faulted: unmapping is never failed, and the purges on the way are tested above
            // (unguarding at destroy is, in GuardFailureTests).
            Pages.FaultInjector = null;
        }

        long refusals;
        var guardPages = new List<nuint>();
        try
        {
            refusals = arena.GetStats().Pages.GuardProtectRefusals;
            foreach (AddressSpaceRegion region in arena.GetAddressSpace())
            {
                if (region.Kind == AddressSpaceKind.Guard) guardPages.Add(region.Start);
            }
        }
        finally
        {
            arena.Dispose();
            map.Dispose();
        }

        // Nothing this run placed is still mapped: no leaked extent, guard page or metadata block,
        // and none of the guard pages in place at the end survived the arena.
        foreach (nuint g in guardPages) Assert.False(placement.IsMapped(g), $"the guard page at 0x{g:x} outlived the arena");
        Assert.Equal((nuint)0, placement.MappedBytes);
        Assert.Equal(mappedBefore, Pages.MappedBytes);
        return new RunResult(fired, firedAt, calls, new(placement.Maps), stepsWithGuards, guardsWhenFired, refusals);
    }

    // Guard pages the arena reports that are placed, mapped, and shown by the kernel as inaccessible.
    private static bool GuardPagesInPlace(Arena arena, ReservedPagePlacement placement)
    {
        foreach (AddressSpaceRegion region in arena.GetAddressSpace())
        {
            if (region.Kind == AddressSpaceKind.Guard && placement.IsMapped(region.Start)
                && ProcMaps.PermissionsAt((void*)region.Start)?.StartsWith("---", StringComparison.Ordinal) == true)
                return true;
        }

        return false;
    }
}
