using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text;
using Allocator.Bench.Harness;

namespace Allocator.Bench;

/// <summary>The same settings as <c>Arena.Create(new ArenaOptions())</c>, declared with attributes.</summary>
[Arena(Retain = true, DirtyDecayMs = 10_000, MuzzyDecayMs = 0)]
[SizeClasses(LgQuantum = 4, LgPage = 12)]
public sealed partial class SpecializedArena;

/// <summary><see cref="SpecializedArena"/> with heap profiling at jemalloc's default interval.</summary>
[Arena(Retain = true, DirtyDecayMs = 10_000, MuzzyDecayMs = 0, ProfileSampleBytes = 1 << 19)]
[SizeClasses(LgQuantum = 4, LgPage = 12)]
public sealed partial class ProfiledSpecializedArena;

/// <summary>
/// What compile-time specialization buys: one workload through the generated arena, through
/// <c>Arena.Create</c> with the same settings called as the abstract <see cref="Arena"/>, and as the
/// sealed <c>Arena&lt;RuntimeArenaPolicy&gt;</c>. Runs interleave; the figure is the median.
/// </summary>
public static unsafe class Specialization
{
    private interface IOps
    {
        void* Allocate(nuint size);

        void FreeSized(void* p, nuint size);

        void Free(void* p);
    }

    private readonly struct Generated(SpecializedArena arena) : IOps
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void* Allocate(nuint size) => arena.Allocate(size);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void FreeSized(void* p, nuint size) => arena.FreeSized(p, size);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Free(void* p) => arena.Free(p);
    }

    private readonly struct Abstract(Arena arena) : IOps
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void* Allocate(nuint size) => arena.Allocate(size);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void FreeSized(void* p, nuint size) => arena.FreeSized(p, size);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Free(void* p) => arena.Free(p);
    }

    private readonly struct Sealed(Arena<RuntimeArenaPolicy> arena) : IOps
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void* Allocate(nuint size) => arena.Allocate(size);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void FreeSized(void* p, nuint size) => arena.FreeSized(p, size);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Free(void* p) => arena.Free(p);
    }

    /// <summary>Runs every workload for the three variants and writes a markdown table.</summary>
    public static int Run(string outDir, bool quick)
    {
        using var generated = new SpecializedArena();
        Arena created = Arena.Create(new ArenaOptions());
        using var sealedArena = new Arena<RuntimeArenaPolicy>(new ArenaOptions());
        var variants = new (string Name, Func<string, double> Measure)[]
        {
            ("generated [Arena]", w => Measure(new Generated(generated), w, quick)),
            ("Arena.Create (abstract Arena)", w => Measure(new Abstract(created), w, quick)),
            ("Arena.Create (sealed Arena<RuntimeArenaPolicy>)", w => Measure(new Sealed(sealedArena), w, quick)),
        };
        string[] workloads = { "pair-64 FreeSized", "pair-64 Free", "records" };
        int runs = (quick ? RunSettings.Quick : RunSettings.Full).Runs;
        var samples = new Dictionary<(string, string), List<double>>();
        foreach (string w in workloads)
        {
            foreach (var v in variants) v.Measure(w);
            for (int r = 0; r < runs; r++)
            {
                foreach (var v in variants)
                {
                    var key = (v.Name, w);
                    if (!samples.TryGetValue(key, out var list)) samples[key] = list = new List<double>();
                    list.Add(v.Measure(w));
                }
            }
        }

        var c = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.Append(c, $"# Specialization: generated arena against Arena.Create with the same settings\n\n");
        md.Append(c, $"- {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {Environment.ProcessorCount} cores; load average {Machine.LoadAverageNow()}; {runs} interleaved runs, median ns per operation\n");
        md.Append("- pair-64: allocate 64 B and free it (FreeSized or Free); records: allocate 100,000 blocks of 8..512 B (a parser keeping records), then free them all\n\n");
        md.Append("| workload | " + string.Join(" | ", variants.Select(v => v.Name)) + " | generated / abstract |\n");
        md.Append("|---|" + string.Concat(variants.Select(_ => "---:|")) + "---:|\n");
        foreach (string w in workloads)
        {
            double[] medians = variants.Select(v => Median(samples[(v.Name, w)])).ToArray();
            md.Append(c, $"| {w} | {string.Join(" | ", medians.Select(m => m.ToString("F2", c)))} | {medians[0] / medians[1]:F2} |\n");
        }

        // A thread handle skips the thread-local lookup: the floor of the allocate/free pair here.
        var handleSamples = new List<double>();
        HandlePairs(sealedArena, 100_000);
        for (int r = 0; r < runs; r++) handleSamples.Add(HandlePairs(sealedArena, quick ? 2_000_000 : 10_000_000));
        md.Append(c, $"\npair-64 through `GetThreadHandle()` (sealed Arena<RuntimeArenaPolicy>, FreeSized): {Median(handleSamples):F2} ns\n");

        Directory.CreateDirectory(outDir);
        string path = Path.Combine(outDir, quick ? "specialization-quick.md" : "specialization.md");
        File.WriteAllText(path, md.ToString());
        Console.Write(md.ToString());
        created.Dispose();
        return 0;
    }

    private static double Measure<T>(T ops, string workload, bool quick) where T : struct, IOps => workload switch
    {
        "pair-64 FreeSized" => Pairs(ops, quick ? 2_000_000 : 10_000_000, sized: true),
        "pair-64 Free" => Pairs(ops, quick ? 2_000_000 : 10_000_000, sized: false),
        _ => Records(ops, quick ? 3 : 10),
    };

    private static double Pairs<T>(T ops, int count, bool sized) where T : struct, IOps
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
        {
            void* p = ops.Allocate(64);
            *(byte*)p = 1;
            if (sized) ops.FreeSized(p, 64);
            else ops.Free(p);
        }

        return Stopwatch.GetElapsedTime(start).TotalNanoseconds / count;
    }

    private static double HandlePairs(Arena<RuntimeArenaPolicy> arena, int count)
    {
        var handle = arena.GetThreadHandle();
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
        {
            void* p = handle.Allocate(64);
            *(byte*)p = 1;
            handle.FreeSized(p, 64);
        }

        return Stopwatch.GetElapsedTime(start).TotalNanoseconds / count;
    }

    private static double Records<T>(T ops, int rounds) where T : struct, IOps
    {
        const int N = 100_000;
        var blocks = new nint[N];
        var sizes = new nuint[N];
        var rng = new Random(1);
        for (int i = 0; i < N; i++) sizes[i] = (nuint)rng.Next(8, 513);
        long start = Stopwatch.GetTimestamp();
        for (int r = 0; r < rounds; r++)
        {
            for (int i = 0; i < N; i++)
            {
                byte* p = (byte*)ops.Allocate(sizes[i]);
                *p = (byte)i;
                blocks[i] = (nint)p;
            }

            for (int i = 0; i < N; i++) ops.FreeSized((void*)blocks[i], sizes[i]);
        }

        return Stopwatch.GetElapsedTime(start).TotalNanoseconds / ((double)rounds * N);
    }

    // The harness's median (interpolated; the run counts are odd, so it is the middle sample).
    private static double Median(List<double> values) => Stats.FromSamples(values.ToArray(), 1).Median;
}
