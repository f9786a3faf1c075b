using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Allocator.Tests.Infrastructure;
using CsCheck;
using Microsoft.Extensions.Time.Testing;

namespace Allocator.Tests.Arenas;

/// <summary>Random programs over the public API, and threads freeing each other's blocks.</summary>
public sealed unsafe class ArenaModelTests
{
    private enum Op { Allocate, AllocateZeroed, TryAllocate, Reallocate, Free, FreeSized, Purge, Reset }

    private static readonly Gen<nuint> Size = Gen.Frequency(
        (6, Gen.UInt[0, 512].Select(u => (nuint)u)),
        (3, Gen.UInt[513, 16384].Select(u => (nuint)u)),
        (1, Gen.UInt[16385, 600_000].Select(u => (nuint)u)));

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void RandomProgramsKeepEveryBlocksContentsAndTheArenaValid(bool threadCache, bool guards)
    {
        Gen.Select(Gen.Enum<Op>(), Size, Gen.Int[0, 1000]).Array[1, 80].Sample(program =>
        {
            using var arena = Arena.Create(new ArenaOptions
            {
                ThreadCache = threadCache,
                GuardSmallEvery = guards ? 3 : 0,
                GuardLargeEvery = guards ? 2 : 0,
                TimeProvider = new FakeTimeProvider(),
            });
            var live = new List<(nint P, nuint Size, byte Tag)>();
            byte tag = 0;
            foreach (var (op, size, pick) in program)
            {
                switch (op)
                {
                    case Op.Allocate or Op.AllocateZeroed or Op.TryAllocate:
                    {
                        byte* p = (byte*)(op switch { Op.Allocate => arena.Allocate(size), Op.TryAllocate => arena.TryAllocate(size), _ => arena.AllocateZeroed(size) });
                        Assert.True(p != null);
                        if (op == Op.AllocateZeroed) Assert.True(new ReadOnlySpan<byte>(p, (int)size).IndexOfAnyExcept((byte)0) < 0);
                        Assert.True(arena.UsableSize(p) >= size);
                        tag++;
                        new Span<byte>(p, (int)size).Fill(tag);
                        live.Add(((nint)p, size, tag));
                        break;
                    }
                    case Op.Reallocate when live.Count > 0:
                    {
                        int i = pick % live.Count;
                        var (p, old, t) = live[i];
                        byte* q = (byte*)arena.Reallocate((void*)p, size);
                        Assert.True(new ReadOnlySpan<byte>(q, (int)Math.Min(old, size)).IndexOfAnyExcept(t) < 0, "reallocate lost contents");
                        new Span<byte>(q, (int)size).Fill(t);
                        live[i] = ((nint)q, size, t);
                        break;
                    }
                    case Op.Free or Op.FreeSized when live.Count > 0:
                    {
                        int i = pick % live.Count;
                        var (p, s, t) = live[i];
                        Assert.True(new ReadOnlySpan<byte>((void*)p, (int)s).IndexOfAnyExcept(t) < 0, "a live block was overwritten");
                        if (op == Op.Free) arena.Free((void*)p);
                        else arena.FreeSized((void*)p, s);
                        live.RemoveAt(i);
                        break;
                    }
                    case Op.Purge:
                        arena.Purge();
                        break;
                    case Op.Reset:
                        arena.Reset();
                        live.Clear();
                        break;
                }

                foreach (var (p, s, t) in live) Assert.True(new ReadOnlySpan<byte>((void*)p, (int)s).IndexOfAnyExcept(t) < 0, "blocks overlap");
                arena.Validate();
            }

            // With the cache flushed, the statistics count exactly the blocks the model holds;
            // once those are freed, none.
            arena.Purge();
            LiveCounts.Expect(arena, live.Select(l => l.Size), "after the program");
            foreach (var (p, _, _) in live) arena.Free((void*)p);
            arena.Purge();
            LiveCounts.Expect(arena, [], "after freeing every block");
            Assert.Equal(0, arena.GetStats().Allocated);
        }, iter: 40);
    }

    [Fact]
    public void ThreadsFreeingEachOthersBlocksLeaveEveryClassEmpty()
    {
        using var arena = Arena.Create(new ArenaOptions { TimeProvider = new FakeTimeProvider() });
        const int Threads = 4, Ops = 30_000;
        var handoff = new ConcurrentQueue<(nint P, nuint Size, byte Tag)>();
        var errors = new ConcurrentQueue<Exception>();
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            try
            {
                var rng = new Random(t);
                var mine = new List<(nint P, nuint Size, byte Tag)>();
                for (int i = 0; i < Ops; i++)
                {
                    int r = rng.Next(10);
                    if (r < 4)
                    {
                        nuint size = (nuint)(rng.Next(8) == 0 ? rng.Next(4096, 100_000) : rng.Next(1, 600));
                        byte* p = (byte*)arena.Allocate(size);
                        byte tag = (byte)rng.Next(256);
                        new Span<byte>(p, (int)size).Fill(tag);
                        if (rng.Next(2) == 0) handoff.Enqueue(((nint)p, size, tag));
                        else mine.Add(((nint)p, size, tag));
                    }
                    else if (r < 7 && handoff.TryDequeue(out var other))
                    {
                        Assert.True(new ReadOnlySpan<byte>((void*)other.P, (int)other.Size).IndexOfAnyExcept(other.Tag) < 0);
                        arena.FreeSized((void*)other.P, other.Size);
                    }
                    else if (r < 9 && mine.Count > 0)
                    {
                        int k = rng.Next(mine.Count);
                        arena.Free((void*)mine[k].P);
                        mine.RemoveAt(k);
                    }
                    else if (mine.Count > 0)
                    {
                        int k = rng.Next(mine.Count);
                        var (p, s, tag) = mine[k];
                        nuint ns = (nuint)rng.Next(1, 20_000);
                        byte* q = (byte*)arena.Reallocate((void*)p, ns);
                        Assert.True(new ReadOnlySpan<byte>(q, (int)Math.Min(s, ns)).IndexOfAnyExcept(tag) < 0);
                        new Span<byte>(q, (int)ns).Fill(tag);
                        mine[k] = ((nint)q, ns, tag);
                    }
                }

                foreach (var m in mine) arena.Free((void*)m.P);
                // This thread's cache back to the bins before it ends.
                arena.Purge();
            }
            catch (Exception ex)
            {
                errors.Enqueue(ex);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        Assert.True(threads.All(t => t.Join(TimeSpan.FromMinutes(2))), "deadlock");
        Assert.Empty(errors);
        while (handoff.TryDequeue(out var left)) arena.Free((void*)left.P);
        arena.Validate();

        // Every worker flushed its cache, and this thread flushes what it freed: nothing is live.
        arena.Purge();
        LiveCounts.Expect(arena, [], "after every thread freed its blocks");
        ArenaStats stats = arena.GetStats();
        Assert.Equal(0, stats.Allocated);
        Assert.True(stats.Active == 0, $"{stats.Active} bytes still active with every block freed");
        arena.Validate();
    }
}
