using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Allocator.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Allocator.Tests.Hardening;

/// <summary>
/// More threads than cores mixing allocate, free, reallocate and frees of other threads' blocks,
/// while private arenas are created, reset and destroyed beside them. Every block is filled
/// whole and checked whole; between phases, with every thread's cache flushed, each class's live
/// count in the statistics must equal the model's (the blocks the test holds, classed by the
/// size table, not by the arena), and at the end every class is empty.
/// </summary>
public sealed unsafe class StressTests
{
    [Theory]
    [InlineData(2, 20_000)]
    [InlineData(8, 5_000)]
    [InlineData(16, 2_500)]
    public void ThreadsMixingOperationsAcrossArenasStayConsistent(int threads, int opsPerThread)
    {
        const int Rounds = 3;
        var shared = Arena.Create(new ArenaOptions { TimeProvider = new FakeTimeProvider(), GuardSmallEvery = 7, GuardLargeEvery = 5 });
        var handoff = new ConcurrentQueue<Block>();
        var errors = new ConcurrentQueue<Exception>();
        var mineOf = new List<Block>[threads];
        using var phase = new Barrier(threads);
        int resets = 0;
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            try
            {
                var rng = new Random(t * 7919);
                var mine = mineOf[t] = new List<Block>();
                for (int round = 0; round < Rounds; round++)
                {
                    // A private arena per thread and round, reset midway and destroyed at the end,
                    // with the shared arena busy beside it.
                    using var own = Arena.Create(new ArenaOptions { TimeProvider = new FakeTimeProvider(), ThreadCache = t % 2 == 0 });
                    var ownLive = new List<Block>();
                    for (int i = 0; i < opsPerThread; i++)
                    {
                        int r = rng.Next(20);
                        nuint size = (nuint)(rng.Next(10) == 0 ? rng.Next(16_385, 130_000) : rng.Next(1, 2000));
                        if (r < 7)
                        {
                            var b = Block.Fill(shared.Allocate(size), size, (byte)rng.Next(1, 256));
                            if (r < 3) handoff.Enqueue(b);
                            else mine.Add(b);
                        }
                        else if (r < 11 && handoff.TryDequeue(out var other))
                        {
                            other.Check();
                            shared.FreeSized((void*)other.P, other.Size);
                        }
                        else if (r < 14 && mine.Count > 0)
                        {
                            int k = rng.Next(mine.Count);
                            mine[k].Check();
                            shared.Free((void*)mine[k].P);
                            mine.RemoveAt(k);
                        }
                        else if (r < 16 && mine.Count > 0)
                        {
                            int k = rng.Next(mine.Count);
                            Block old = mine[k];
                            byte* q = (byte*)shared.Reallocate((void*)old.P, size);
                            if (new ReadOnlySpan<byte>(q, (int)Math.Min(old.Size, size)).IndexOfAnyExcept(old.Tag) >= 0)
                                throw new InvalidOperationException($"reallocate from {old.Size} to {size} bytes lost contents");
                            mine[k] = Block.Fill(q, size, old.Tag);
                        }
                        else if (r < 19)
                        {
                            var b = Block.Fill(own.Allocate(size), size, (byte)rng.Next(1, 256));
                            if (rng.Next(2) == 0)
                            {
                                b.Check();
                                own.Free((void*)b.P);
                            }
                            else
                            {
                                ownLive.Add(b);
                            }
                        }

                        if (i == opsPerThread / 2)
                        {
                            // Every round resets its private arena once, after checking it against the model.
                            foreach (Block b in ownLive) b.Check();
                            own.Purge();
                            ExpectLive(own, ownLive, "the private arena before its reset");
                            own.Reset();
                            ownLive.Clear();
                            own.Validate();
                            ExpectLive(own, ownLive, "the private arena after its reset");
                            Interlocked.Increment(ref resets);
                        }
                    }

                    foreach (Block b in ownLive) b.Check();
                    own.Validate();
                    // This thread's cache back to the bins, so that the counts below are the blocks held.
                    shared.Purge();
                    phase.SignalAndWait();
                    // Between phases every thread is at the barrier: the shared arena is quiescent.
                    if (t == 0)
                    {
                        shared.Validate();
                        var held = new List<Block>(handoff);
                        foreach (List<Block> m in mineOf) held.AddRange(m);
                        foreach (Block b in held) b.Check();
                        ExpectLive(shared, held, $"the shared arena after round {round}");
                    }

                    phase.SignalAndWait();
                }

                foreach (Block m in mine) shared.Free((void*)m.P);
                mine.Clear();
                shared.Purge();
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
        Assert.Equal(threads * Rounds, resets);
        while (handoff.TryDequeue(out var left))
        {
            left.Check();
            shared.Free((void*)left.P);
        }

        shared.Purge();
        shared.Validate();
        ExpectLive(shared, [], "the shared arena at the end");
        ArenaStats end = shared.GetStats();
        Assert.Equal(0, end.Allocated);
        Assert.True(end.Active == 0, $"{end.Active} bytes still active with every block freed and every cache flushed");
        shared.Dispose();
    }

    private static void ExpectLive(Arena arena, List<Block> held, string where) => LiveCounts.Expect(arena, held.Select(b => b.Size), where);

    private readonly record struct Block(nint P, nuint Size, byte Tag)
    {
        public static Block Fill(void* p, nuint size, byte tag)
        {
            new Span<byte>(p, (int)size).Fill(tag);
            return new Block((nint)p, size, tag);
        }

        public void Check()
        {
            int bad = new ReadOnlySpan<byte>((void*)P, (int)Size).IndexOfAnyExcept(Tag);
            if (bad >= 0) throw new InvalidOperationException($"block 0x{P:x} of {Size} bytes was overwritten at offset {bad}");
        }
    }
}
