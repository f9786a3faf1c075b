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
/// Every block is filled with a tag and checked whole before it is freed; every ten seconds the
/// workers pause and the arena is validated. The run writes soak-rss.csv and a one-line
/// soak-summary.txt. Exit code 0 when RSS stayed flat (within 10% of the warm-up peak), every
/// block stayed intact and nothing was left allocated, 1 otherwise.
/// <c>-- guarded [GiB] [threads]</c> runs instead the guarded server workload of the CI test
/// (production guard settings, every block's contents checked) over that many GiB of allocations;
/// exit code 0 when every block stayed intact. <c>-- discard [minutes] [threads] [variant...]</c> checks the
/// platform, without the allocator, for discarded pages that still read non-zero (see <see cref="DiscardCheck"/>).
/// <c>-- zeroed [minutes] [threads]</c> runs the zeroed-block stress of the CI test (ZeroedLargeStressTests)
/// for that long, with <c>Validate</c> after every round, and writes zeroed-summary.txt; exit code 0
/// when every zeroed block read as zero and every block kept its contents (a failed Validate throws).
/// </summary>
public static unsafe class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "guarded") return Guarded(args);
        if (args.Length > 0 && args[0] == "discard") return DiscardCheck.Run(args);
        if (args.Length > 0 && args[0] == "zeroed") return Zeroed(args);
        double minutes = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 10;
        int threads = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 4;
        using var arena = Arena.Create(new ArenaOptions { DirtyDecayMs = 1_000, MuzzyDecayMs = 1_000, GuardLargeEvery = 128, GuardSmallEvery = 64 });
        var started = DateTime.UtcNow;
        var stop = started.AddMinutes(minutes);
        long ops = 0, checkedBytes = 0;
        int validations = 0;
        var corruptions = new System.Collections.Concurrent.ConcurrentQueue<string>();
        // Workers hold it shared for each batch; the sampler takes it alone to validate the quiescent arena.
        using var gate = new ReaderWriterLockSlim();
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var rng = new Random(t);
            const int LiveBlocks = 20_000;
            var live = new (nint P, nuint Size, byte Tag)[LiveBlocks];
            long seen = 0;
            while (DateTime.UtcNow < stop)
            {
                gate.EnterReadLock();
                try
                {
                    for (int i = 0; i < 10_000; i++)
                    {
                        int k = rng.Next(LiveBlocks);
                        if (live[k].P != 0)
                        {
                            seen += Check(live[k], corruptions);
                            arena.FreeSized((void*)live[k].P, live[k].Size);
                        }

                        nuint size = (nuint)(rng.Next(50) == 0 ? rng.Next(16_384, 1 << 20) : rng.Next(8, 2048));
                        byte tag = (byte)rng.Next(1, 256);
                        byte* p = (byte*)arena.Allocate(size);
                        new Span<byte>(p, (int)size).Fill(tag);
                        live[k] = ((nint)p, size, tag);
                    }
                }
                finally
                {
                    gate.ExitReadLock();
                }

                Interlocked.Add(ref ops, 10_000);
            }

            foreach (var block in live)
            {
                if (block.P == 0) continue;
                seen += Check(block, corruptions);
                arena.FreeSized((void*)block.P, block.Size);
            }

            // This thread's cache back to the arena, so that nothing it freed still counts as allocated.
            arena.Purge();
            Interlocked.Add(ref checkedBytes, seen);
        })).ToList();

        workers.ForEach(w => w.Start());
        var samples = new List<(double Seconds, long RssKiB)>();
        var clock = Stopwatch.StartNew();
        while (workers.Any(w => w.IsAlive))
        {
            Thread.Sleep(1000);
            samples.Add((clock.Elapsed.TotalSeconds, ProcStatus.RssKiB()));
            // Every ten seconds the workers pause between batches and the arena is validated.
            if (samples.Count % 10 == 0)
            {
                gate.EnterWriteLock();
                try
                {
                    arena.Validate();
                    validations++;
                }
                finally
                {
                    gate.ExitWriteLock();
                }
            }

            // Where the resident memory is, so that a run reporting growth says which part grew.
            var st = arena.GetStats();
            Console.WriteLine($"{clock.Elapsed.TotalSeconds,6:F0} s  rss {samples[^1].RssKiB,9:N0} KiB  ops {Interlocked.Read(ref ops),14:N0}  " +
                $"MiB allocated {st.Allocated >> 20,4} active {st.Active >> 20,4} dirty {st.Dirty >> 20,3} muzzy {st.Muzzy >> 20,3}");
        }

        workers.ForEach(w => w.Join());
        arena.Validate();
        validations++;
        long leftAllocated = arena.GetStats().Allocated;
        // Warm-up: the first fifth of the run. After it, the live set is steady, so RSS must be too.
        int warm = Math.Max(1, samples.Count / 5);
        long warmPeak = samples.Take(warm).Max(s => s.RssKiB);
        long laterPeak = samples.Skip(warm).DefaultIfEmpty(samples[^1]).Max(s => s.RssKiB);
        bool flat = laterPeak <= warmPeak * 1.10;
        bool intact = corruptions.IsEmpty;
        foreach (string c in corruptions.Take(10)) Console.WriteLine(c);
        File.WriteAllLines("soak-rss.csv", samples.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Seconds:F0},{s.RssKiB}")).Prepend("seconds,rss_kib"));
        string summary = string.Create(CultureInfo.InvariantCulture,
            $"{started:yyyy-MM-dd HH:mm} UTC, {clock.Elapsed.TotalMinutes:F1} min with {threads} threads on {Environment.ProcessorCount} cores at load {LoadAverage()}: " +
            $"{Interlocked.Read(ref ops) / 1e6:F1} M operations, {Interlocked.Read(ref checkedBytes) / (double)(1L << 30):F1} GiB of block contents checked " +
            $"({(intact ? "all intact" : $"{corruptions.Count} blocks CORRUPT")}), Validate passed {validations} times, {leftAllocated} bytes allocated at the end; " +
            $"RSS peak after warm-up {laterPeak >> 10:N0} MiB against {warmPeak >> 10:N0} MiB during it: {(flat ? "flat" : "GROWING")}");
        File.WriteAllText("soak-summary.txt", summary + Environment.NewLine);
        Console.WriteLine(summary);
        return flat && intact && leftAllocated == 0 ? 0 : 1;
    }

    // The bytes checked, or 0 with the block reported when any byte differs from its tag.
    private static long Check((nint P, nuint Size, byte Tag) block, System.Collections.Concurrent.ConcurrentQueue<string> corruptions)
    {
        int bad = new ReadOnlySpan<byte>((void*)block.P, (int)block.Size).IndexOfAnyExcept(block.Tag);
        if (bad < 0) return (long)block.Size;
        corruptions.Enqueue($"block 0x{block.P:x} of {block.Size} bytes: byte {bad} is 0x{((byte*)block.P)[bad]:x2}, not 0x{block.Tag:x2}");
        return 0;
    }

    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static int Zeroed(string[] args)
    {
        double minutes = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 10;
        int threads = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 16;
        var started = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        using Arena arena = Arena.Create(new ArenaOptions());
        var stress = new Allocator.Tests.Hardening.ZeroedStress(arena, 1000)
        {
            Threads = threads,
            Rounds = 1,
            AllocsPerThread = 2000,
            Duration = TimeSpan.FromMinutes(minutes),
        };
        stress.Run(round =>
        {
            arena.Validate();
            if ((round + 1) % 20 == 0) Console.WriteLine($"{clock.Elapsed.TotalSeconds,6:F0} s  round {round + 1}: {Interlocked.Read(ref stress.Blocks):N0} blocks");
        });
        arena.Validate();
        foreach (string report in stress.Reports.Take(10)) Console.WriteLine(report);
        bool clean = stress.ZeroFailures + stress.ContentFailures == 0;
        string summary = string.Create(CultureInfo.InvariantCulture,
            $"`-- zeroed {args.ElementAtOrDefault(1) ?? "10"} {threads}`, {started:yyyy-MM-dd HH:mm} UTC, {clock.Elapsed.TotalMinutes:F1} min on {Environment.ProcessorCount} cores at load {LoadAverage()}: " +
            $"{stress.RoundsRun} rounds of {threads} new threads, {stress.Blocks:N0} zeroed blocks checked, {stress.ZeroFailures} not zero, {stress.ContentFailures} with changed contents, " +
            $"Validate (mapped count recounted) passed after every round: {(clean ? "clean" : "FAILED")}");
        File.WriteAllText("zeroed-summary.txt", summary + Environment.NewLine);
        Console.WriteLine(summary);
        return clean ? 0 : 1;
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
