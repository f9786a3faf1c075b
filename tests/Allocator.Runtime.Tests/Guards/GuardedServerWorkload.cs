using System;
using System.Globalization;
using System.Threading;

namespace Allocator.Tests.Guards;

/// <summary>
/// A long-running server's allocation mix on an arena with the guard settings docs/configuration.md
/// recommends for production: threads churn a bounded live set of small and large blocks, every
/// block filled with its own pattern and checked when freed and at the end. Shared by the CI test
/// (a few hundred MiB, in a child process) and the soak run (<c>tests/Allocator.Soak -- guarded N</c>, N GiB).
/// </summary>
internal static unsafe class GuardedServerWorkload
{
    /// <summary>The production guard settings of docs/configuration.md ("Guard pages in production").</summary>
    public static ArenaOptions ServerOptions() => new()
    {
        GuardSmallEvery = 64,
        GuardLargeEvery = 64,
        GuardMappingShare = 0.25,
        DirtyDecayMs = 1_000,
        MuzzyDecayMs = 1_000,
    };

    /// <summary>
    /// Churns <paramref name="totalBytes"/> bytes of allocations over <paramref name="threads"/> threads;
    /// returns the first corruption it found, or null. <paramref name="report"/> gets a line of figures at the end.
    /// </summary>
    public static string? Run(Arena arena, long totalBytes, int threads, Action<string> report)
    {
        string? corruption = null;
        long allocated = 0, operations = 0, guardedSeen = 0;
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int seed = t;
            workers[t] = new Thread(() =>
            {
                var rng = new Random(1800 + seed);
                const int LiveBlocks = 4_000;
                var live = new (nint P, int Size, byte Tag)[LiveBlocks];
                long mine = 0;
                while (Volatile.Read(ref corruption) is null && Interlocked.Read(ref allocated) < totalBytes)
                {
                    for (int i = 0; i < 1_000; i++)
                    {
                        int k = rng.Next(LiveBlocks);
                        if (live[k].P != 0 && !Check(live[k], ref corruption)) return;
                        if (live[k].P != 0) arena.FreeSized((void*)live[k].P, (nuint)live[k].Size);
                        int r = rng.Next(1_000);
                        int size = r < 940 ? rng.Next(1, 4_096) : r < 995 ? rng.Next(4_096, 64 << 10) : rng.Next(64 << 10, 1 << 20);
                        byte* p = (byte*)arena.Allocate((nuint)size);
                        byte tag = (byte)rng.Next(1, 256);
                        new Span<byte>(p, size).Fill(tag);
                        live[k] = ((nint)p, size, tag);
                        mine += size;
                    }

                    Interlocked.Add(ref allocated, mine);
                    Interlocked.Add(ref operations, 1_000);
                    mine = 0;
                    Interlocked.Exchange(ref guardedSeen, Math.Max(Interlocked.Read(ref guardedSeen), arena.GetStats().Pages.GuardMappings));
                }

                foreach (var block in live)
                {
                    if (block.P == 0) continue;
                    if (!Check(block, ref corruption)) return;
                    arena.FreeSized((void*)block.P, (nuint)block.Size);
                }
            });
        }

        foreach (Thread w in workers) w.Start();
        foreach (Thread w in workers) w.Join();
        if (corruption is null) arena.Validate();
        var s = arena.GetStats().Pages;
        report(string.Create(CultureInfo.InvariantCulture,
            $"{Interlocked.Read(ref operations):N0} operations, {Interlocked.Read(ref allocated) >> 20:N0} MiB allocated, peak guard mappings {Interlocked.Read(ref guardedSeen):N0} (limit {s.GuardMappingLimit:N0}), skipped for budget {s.GuardsSkippedForBudget:N0}, protect refusals {s.GuardProtectRefusals:N0}"));
        return corruption;
    }

    private static bool Check((nint P, int Size, byte Tag) block, ref string? corruption)
    {
        int bad = new ReadOnlySpan<byte>((void*)block.P, block.Size).IndexOfAnyExcept(block.Tag);
        if (bad < 0) return true;
        Interlocked.CompareExchange(ref corruption, $"byte {bad} of a {block.Size}-byte block at 0x{block.P:x} changed", null);
        return false;
    }
}
