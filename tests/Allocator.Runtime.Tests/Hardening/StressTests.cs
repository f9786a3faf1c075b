using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.Extensions.Time.Testing;

namespace Allocator.Tests.Hardening;

/// <summary>
/// More threads than cores mixing allocate, free, reallocate and frees of other threads' blocks,
/// while other arenas are created, reset and destroyed beside them. Bounded in count; the arenas
/// validate after every phase and their statistics balance at the end.
/// </summary>
public sealed unsafe class StressTests
{
    [Theory]
    [InlineData(2, 20_000)]
    [InlineData(8, 5_000)]
    [InlineData(16, 2_500)]
    public void ThreadsMixingOperationsAcrossArenasStayConsistent(int threads, int opsPerThread)
    {
        var shared = Arena.Create(new ArenaOptions { TimeProvider = new FakeTimeProvider(), GuardSmallEvery = 7, GuardLargeEvery = 5 });
        var handoff = new ConcurrentQueue<(nint P, nuint Size, byte Tag)>();
        var errors = new ConcurrentQueue<Exception>();
        using var phase = new Barrier(threads);
        long ops = 0;
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            try
            {
                var rng = new Random(t * 7919);
                var mine = new List<(nint P, nuint Size, byte Tag)>();
                for (int round = 0; round < 3; round++)
                {
                    // A private arena per thread and round, reset midway and destroyed at the end,
                    // with the shared arena busy beside it.
                    using var own = Arena.Create(new ArenaOptions { TimeProvider = new FakeTimeProvider(), ThreadCache = t % 2 == 0 });
                    for (int i = 0; i < opsPerThread; i++)
                    {
                        int r = rng.Next(20);
                        nuint size = (nuint)(rng.Next(10) == 0 ? rng.Next(16_385, 300_000) : rng.Next(1, 2000));
                        if (r < 7)
                        {
                            byte* p = (byte*)shared.Allocate(size);
                            byte tag = (byte)rng.Next(1, 256);
                            p[0] = tag;
                            p[size - 1] = tag;
                            if (r < 3) handoff.Enqueue(((nint)p, size, tag));
                            else mine.Add(((nint)p, size, tag));
                        }
                        else if (r < 11 && handoff.TryDequeue(out var other))
                        {
                            Check(other);
                            shared.FreeSized((void*)other.P, other.Size);
                        }
                        else if (r < 14 && mine.Count > 0)
                        {
                            int k = rng.Next(mine.Count);
                            Check(mine[k]);
                            shared.Free((void*)mine[k].P);
                            mine.RemoveAt(k);
                        }
                        else if (r < 16 && mine.Count > 0)
                        {
                            int k = rng.Next(mine.Count);
                            var (p, s, tag) = mine[k];
                            byte* q = (byte*)shared.Reallocate((void*)p, size);
                            if (q[0] != tag) throw new InvalidOperationException("reallocate lost the first byte");
                            q[size - 1] = tag;
                            mine[k] = ((nint)q, size, tag);
                        }
                        else if (r < 19)
                        {
                            byte* p = (byte*)own.Allocate(size);
                            p[size - 1] = 1;
                            if (rng.Next(2) == 0) own.Free(p);
                        }
                        else if (i == opsPerThread / 2)
                        {
                            own.Reset();
                        }

                        Interlocked.Increment(ref ops);
                    }

                    own.Validate();
                    phase.SignalAndWait();
                    // Between phases every thread is at the barrier: the shared arena is quiescent.
                    if (t == 0) shared.Validate();
                    phase.SignalAndWait();
                }

                foreach (var m in mine) shared.Free((void*)m.P);
            }
            catch (Exception ex)
            {
                errors.Enqueue(ex);
                phase.RemoveParticipant();
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        Assert.True(workers.All(w => w.Join(TimeSpan.FromMinutes(3))), "deadlock");
        Assert.Empty(errors);
        while (handoff.TryDequeue(out var left)) shared.Free((void*)left.P);
        shared.Validate();
        ArenaStats stats = shared.GetStats();
        foreach (BinStats b in stats.Bins) Assert.Equal(b.Allocations - b.Deallocations, b.CurrentRegions);
        foreach (LargeClassStats l in stats.LargeClasses) Assert.Equal(l.Allocations - l.Deallocations, l.Current);
        Assert.True(Interlocked.Read(ref ops) >= (long)threads * opsPerThread * 3);
        shared.Dispose();
    }

    private static void Check((nint P, nuint Size, byte Tag) b)
    {
        var p = (byte*)b.P;
        if (p[0] != b.Tag || p[b.Size - 1] != b.Tag) throw new InvalidOperationException($"block 0x{b.P:x} was overwritten");
    }
}
