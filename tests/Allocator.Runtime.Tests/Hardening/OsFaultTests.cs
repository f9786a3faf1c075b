using System;
using System.Collections.Generic;
using System.Threading;
using Allocator.Os;
using Allocator.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Allocator.Tests.Hardening;

/// <summary>
/// The OS itself failing: mmap returning MAP_FAILED, madvise and mprotect refusing, commit and
/// decommit failing, at every call a workload makes in turn, with the default hooks and guards on.
/// </summary>
[Collection(ProcessWideCollection.Name)]
public sealed unsafe class OsFaultTests
{
    private static readonly OsCall[] Calls = { OsCall.Map, OsCall.Commit, OsCall.Decommit, OsCall.PurgeLazy, OsCall.PurgeForced, OsCall.Protect };

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FailingAnyOsCallSurfacesAsDocumentedAndLeavesNothingMapped(bool retain)
    {
        var counts = new Dictionary<OsCall, int>();
        Run(retain, call =>
        {
            counts[call] = counts.GetValueOrDefault(call) + 1;
            return false;
        });

        // The workload must reach the calls it fails, or this test proves nothing.
        // (Decommit is refused before any call where Linux overcommits; lazy purges need a muzzy stage.)
        Assert.True(counts.GetValueOrDefault(OsCall.Map) > 0 && counts.GetValueOrDefault(OsCall.Protect) > 3 && (!retain || counts.GetValueOrDefault(OsCall.PurgeForced) > 0),
            string.Join(", ", counts));
        foreach (OsCall kind in Calls)
        {
            for (int n = 1; n <= counts.GetValueOrDefault(kind); n++)
            {
                int seen = 0;
                int target = n;
                Run(retain, call => call == kind && Interlocked.Increment(ref seen) == target);
            }
        }
    }

    private static void Run(bool retain, Func<OsCall, bool> fail)
    {
        // A private map, so every byte this run maps (extents, guards, metadata, map leaves) is
        // accounted: afterwards the process maps exactly what it mapped before.
        long mappedBefore = Pages.MappedBytes;
        var map = new Allocator.Extents.ExtentMap();
        var arena = Arena.Create(new ArenaOptions
        {
            Map = map,
            Retain = retain,
            TimeProvider = new FakeTimeProvider(),
            GuardSmallEvery = 2,
            GuardLargeEvery = 2,
            DirtyDecayMs = 0,
            MuzzyDecayMs = 0,
            ThreadCache = false,
        });
        var live = new List<(nint P, nuint Size, byte Tag)>();
        var rng = new Random(9);
        Pages.FaultInjector = fail;
        try
        {
            for (int step = 0; step < 30; step++)
            {
                nuint size = (nuint)(rng.Next(3) == 0 ? rng.Next(16_385, 200_000) : rng.Next(1, 6000));
                if (rng.Next(3) != 0 || live.Count == 0)
                {
                    byte* p = (byte*)arena.TryAllocate(size);
                    if (p == null)
                    {
                        // The fault was one call: asking again through Allocate either works or fails as documented.
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
                else
                {
                    int k = rng.Next(live.Count);
                    arena.Free((void*)live[k].P);
                    live.RemoveAt(k);
                }

                foreach (var (p, s, t) in live) Assert.True(new ReadOnlySpan<byte>((void*)p, (int)s).IndexOfAnyExcept(t) < 0);
                arena.Validate();
            }
        }
        finally
        {
            Pages.FaultInjector = null;
            arena.Dispose();
            map.Dispose();
        }

        // Nothing this run mapped is still mapped: no leaked extent, guard page or metadata block.
        Assert.Equal(mappedBefore, Pages.MappedBytes);
    }
}
