using Allocator.Bench.Harness;
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using Allocator;

namespace Allocator.Soak;

/// <summary>
/// The long soak run (not part of CI): several threads churn an arena with a bounded live set for
/// a number of minutes while RSS is sampled; after warm-up, RSS must not grow. Usage:
/// <c>dotnet run -c Release --project tests/Allocator.Soak -- [minutes] [threads]</c>.
/// Exit code 0 when RSS stayed flat (within 10% of the warm-up peak), 1 otherwise.
/// <c>-- guarded [GiB] [threads]</c> runs instead the guarded server workload of the CI test
/// (production guard settings, every block's contents checked) over that many GiB of allocations;
/// exit code 0 when every block stayed intact. <c>-- discard [minutes] [threads]</c> checks the
/// platform, without the allocator, for discarded pages that still read non-zero (see <see cref="DiscardCheck"/>).
/// </summary>
public static unsafe class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "guarded") return Guarded(args);
        if (args.Length > 0 && args[0] == "discard") return DiscardCheck.Run(args);
        double minutes = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 10;
        int threads = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 4;
        using var arena = Arena.Create(new ArenaOptions { DirtyDecayMs = 1_000, MuzzyDecayMs = 1_000, GuardLargeEvery = 128, GuardSmallEvery = 64 });
        var stop = DateTime.UtcNow.AddMinutes(minutes);
        long ops = 0;
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var rng = new Random(t);
            const int LiveBlocks = 20_000;
            var live = new (nint P, nuint Size)[LiveBlocks];
            while (DateTime.UtcNow < stop)
            {
                for (int i = 0; i < 10_000; i++)
                {
                    int k = rng.Next(LiveBlocks);
                    if (live[k].P != 0) arena.FreeSized((void*)live[k].P, live[k].Size);
                    nuint size = (nuint)(rng.Next(50) == 0 ? rng.Next(16_384, 1 << 20) : rng.Next(8, 2048));
                    byte* p = (byte*)arena.Allocate(size);
                    p[0] = p[size - 1] = (byte)k;
                    live[k] = ((nint)p, size);
                }

                Interlocked.Add(ref ops, 10_000);
            }

            foreach (var (p, size) in live)
            {
                if (p != 0) arena.FreeSized((void*)p, size);
            }
        })).ToList();

        workers.ForEach(w => w.Start());
        var samples = new List<(double Seconds, long RssKiB)>();
        var clock = Stopwatch.StartNew();
        while (workers.Any(w => w.IsAlive))
        {
            Thread.Sleep(1000);
            samples.Add((clock.Elapsed.TotalSeconds, ProcStatus.RssKiB()));
            // Where the resident memory is, so that a run reporting growth says which part grew.
            var st = arena.GetStats();
            Console.WriteLine($"{clock.Elapsed.TotalSeconds,6:F0} s  rss {samples[^1].RssKiB,9:N0} KiB  ops {Interlocked.Read(ref ops),14:N0}  " +
                $"MiB allocated {st.Allocated >> 20,4} active {st.Active >> 20,4} dirty {st.Dirty >> 20,3} muzzy {st.Muzzy >> 20,3}");
        }

        arena.Validate();
        // Warm-up: the first fifth of the run. After it, the live set is steady, so RSS must be too.
        int warm = Math.Max(1, samples.Count / 5);
        long warmPeak = samples.Take(warm).Max(s => s.RssKiB);
        long laterPeak = samples.Skip(warm).DefaultIfEmpty(samples[^1]).Max(s => s.RssKiB);
        bool flat = laterPeak <= warmPeak * 1.10;
        File.WriteAllLines("soak-rss.csv", samples.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Seconds:F0},{s.RssKiB}")).Prepend("seconds,rss_kib"));
        Console.WriteLine($"{Interlocked.Read(ref ops):N0} operations; RSS peak after warm-up {laterPeak:N0} KiB against {warmPeak:N0} KiB during it: {(flat ? "flat" : "GROWING")}");
        return flat ? 0 : 1;
    }

    private static int Guarded(string[] args)
    {
        double gib = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 4;
        int threads = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 4;
        using Arena arena = Arena.Create(Allocator.Tests.Guards.GuardedServerWorkload.ServerOptions());
        var clock = Stopwatch.StartNew();
        string? corruption = Allocator.Tests.Guards.GuardedServerWorkload.Run(arena, (long)(gib * (1L << 30)), threads, Console.WriteLine);
        Console.WriteLine(corruption ?? $"every block intact after {clock.Elapsed.TotalSeconds:F0} s; RSS {ProcStatus.RssKiB():N0} KiB");
        return corruption is null ? 0 : 1;
    }
}
