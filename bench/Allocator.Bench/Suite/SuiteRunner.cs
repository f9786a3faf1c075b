using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Allocator.Bench.Harness;
using Allocator.Bench.Peers;

namespace Allocator.Bench.Suite;

/// <summary>One workload and peer: the timed runs, each in its own process.</summary>
public sealed record SuiteCell(string Workload, string Peer, IReadOnlyList<SuiteSample> Samples, string? Failure)
{
    public double? MedianSeconds => Samples.Count == 0 ? null : Median(Samples.Select(s => s.Seconds));

    /// <summary>The process's peak resident set during the timed run (VmHWM), as /usr/bin/time reports it.</summary>
    public double? MedianPeakKiB => Samples.Count == 0 ? null : Median(Samples.Select(s => (double)s.PeakKiB));

    /// <summary>The peak above the RSS the process had just before the timed run.</summary>
    public double? MedianGrowthKiB => Samples.Count == 0 ? null : Median(Samples.Select(s => (double)(s.PeakKiB - s.BaselineKiB)));

    private static double Median(IEnumerable<double> values) => Stats.FromSamples(values.ToArray(), 1).Median;
}

/// <summary>One child process's result.</summary>
public sealed record SuiteSample(double Seconds, long BaselineKiB, long PeakKiB);

/// <summary>Everything one suite invocation measured.</summary>
public sealed record SuiteReport(
    SuiteScale Scale, Machine Machine, DateTime StartedUtc, string LoadAverageAtEnd,
    IReadOnlyList<string> Peers, IReadOnlyList<SkippedPeer> Skipped, IReadOnlyList<SuiteCell> Cells);

/// <summary>
/// Runs the ported mimalloc-bench workloads. Every run of every workload and peer is a fresh
/// process of this program (<c>suite-child</c>), so each has its own peak RSS and starts as cold as
/// the C programs do; the runs are interleaved (run 1 of every workload and peer, then run 2, ...).
/// </summary>
public static class SuiteRunner
{
    private const string ResultPrefix = "SUITE\t";
    private const string SkipPrefix = "SKIP\t";

    // A bound on the warm-up of one child, for a machine so loaded that tiering never looks settled.
    private static readonly TimeSpan MaxWarmUp = TimeSpan.FromSeconds(30);

    /// <summary>The unsized rows: the C programs call <c>free(p)</c>, so that is the like for like.</summary>
    public static readonly string[] DefaultPeers = ["arena", "arena-sealed", "arena-generated", "jemalloc", "mimalloc", "tcmalloc", "glibc"];

    public static SuiteReport Run(SuiteScale scale, IReadOnlyList<PeerDescriptor> peers, IReadOnlyList<SuiteWorkload> workloads)
    {
        DateTime started = DateTime.UtcNow;
        Machine machine = Machine.Describe();
        Console.WriteLine($"suite ({scale.Mode}): {workloads.Count} workloads × {peers.Count} peers × {scale.Runs} runs, load {machine.LoadAverage}");
        var samples = new Dictionary<(string, string), List<SuiteSample>>();
        var failures = new Dictionary<(string, string), string>();
        var skipped = new Dictionary<string, string>();
        for (int run = 0; run < scale.Runs; run++)
        {
            foreach (SuiteWorkload w in workloads)
            {
                foreach (PeerDescriptor d in peers)
                {
                    if (skipped.ContainsKey(d.Name) || failures.ContainsKey((w.Id, d.Name)))
                        continue;
                    (SuiteSample? sample, string? skip, string? failure) = RunChild(d, w, scale);
                    if (skip is not null)
                    {
                        skipped[d.Name] = skip;
                        Console.WriteLine($"  {d.Name,-22} SKIPPED: {skip}");
                        continue;
                    }
                    if (failure is not null)
                    {
                        failures[(w.Id, d.Name)] = failure;
                        Console.WriteLine($"  {w.Id,-13} {d.Name,-22} FAILED: {failure}");
                        continue;
                    }
                    if (!samples.TryGetValue((w.Id, d.Name), out var list))
                        samples[(w.Id, d.Name)] = list = [];
                    list.Add(sample!);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  run {run + 1} {w.Id,-13} {d.Name,-22} {sample!.Seconds * 1000,9:F1} ms  peak RSS {sample.PeakKiB / 1024.0,7:F1} MiB (+{(sample.PeakKiB - sample.BaselineKiB) / 1024.0:F1})"));
                }
            }
        }
        var cells = new List<SuiteCell>();
        foreach (SuiteWorkload w in workloads)
            foreach (PeerDescriptor d in peers.Where(d => !skipped.ContainsKey(d.Name)))
                cells.Add(new SuiteCell(w.Id, d.Name, samples.GetValueOrDefault((w.Id, d.Name)) ?? [], failures.GetValueOrDefault((w.Id, d.Name))));
        return new SuiteReport(scale, machine, started, Machine.LoadAverageNow(),
            peers.Where(d => !skipped.ContainsKey(d.Name)).Select(d => d.Name).ToArray(),
            skipped.Select(kv => new SkippedPeer(kv.Key, kv.Value)).ToArray(), cells);
    }

    private static (SuiteSample?, string?, string?) RunChild(PeerDescriptor peer, SuiteWorkload w, SuiteScale scale)
    {
        ProcessStartInfo start = Tunables.Self(["suite-child", "--peer", peer.Id, "--workload", w.Id, "--mode", scale.Mode]);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using Process child = Process.Start(start) ?? throw new InvalidOperationException("Could not start a suite child.");
        var stderr = child.StandardError.ReadToEndAsync();
        string stdout = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        foreach (string line in stdout.Split('\n'))
        {
            if (line.StartsWith(SkipPrefix, StringComparison.Ordinal))
                return (null, line[SkipPrefix.Length..].Trim(), null);
            if (!line.StartsWith(ResultPrefix, StringComparison.Ordinal))
                continue;
            string[] f = line[ResultPrefix.Length..].Trim().Split('\t');
            return (new SuiteSample(
                double.Parse(f[0], CultureInfo.InvariantCulture),
                long.Parse(f[1], CultureInfo.InvariantCulture),
                long.Parse(f[2], CultureInfo.InvariantCulture)), null, null);
        }
        string tail = stderr.Result.Trim();
        if (tail.Length > 300)
            tail = tail[^300..];
        return (null, null, $"child exited with {child.ExitCode}: {tail}");
    }

    /// <summary>The child side: warm up, reset the peak-RSS mark, run once, print one line.</summary>
    public static int Child(string peerId, string workloadId, string mode)
    {
        SuiteScale scale = SuiteScale.Parse(mode);
        SuiteWorkload w = SuiteCatalog.Find(workloadId) ?? throw new ArgumentException($"Unknown suite workload '{workloadId}'.");
        PeerDescriptor? d = PeerRegistry.Find(peerId);
        PeerProbe probe = d?.Probe() ?? PeerProbe.Skip($"unknown peer '{peerId}'");
        if (probe.Entry is not { } entry)
        {
            Console.WriteLine($"{SkipPrefix}{probe.SkipReason}");
            return 2;
        }

        // One pass at the timed scale (small passes miss the paths only a full one takes: sh6bench
        // flushes a thread cache only with its full buffer), then short passes of the same workload
        // until tiered compilation has settled, so that the timed run is the fully optimized code a
        // C program starts with, not Tier-0 or instrumented code of a rarely taken slow path.
        // Settled: two checks in a row, each after a pass and a pause longer than the runtime's
        // tiering delay (100 ms), found no method newly compiled.
        SuiteScale warm = scale.ForWarmUp();
        long warmStart = Stopwatch.GetTimestamp();
        long compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
        for (int n = 0, quiet = 0; quiet < 2 && Stopwatch.GetElapsedTime(warmStart) < MaxWarmUp; n++)
        {
            entry.RunSuite(w.Id, n == 0 ? scale : warm);
            if (n < 2 || Stopwatch.GetElapsedTime(warmStart) < scale.WarmUp)
                continue;
            System.Threading.Thread.Sleep(250);
            long now = System.Runtime.JitInfo.GetCompiledMethodCount();
            quiet = now == compiled ? quiet + 1 : 0;
            compiled = now;
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        // The C program starts with a cold allocator; every peer gives back what the warm-up left
        // through its own purge (jemalloc's arena.purge, mi_collect, the arena's Purge, ...), so that
        // no row carries free pages of passes that the timed run never asked for.
        entry.Purge();
        ProcStatus.TrimMalloc();
        // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0 and later).
        File.WriteAllText("/proc/self/clear_refs", "5");
        long baseline = ProcStatus.RssKiB();
        double seconds = entry.RunSuite(w.Id, scale);
        long peak = Math.Max(ProcStatus.HighWaterKiB(), ProcStatus.RssKiB());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{ResultPrefix}{seconds:R}\t{baseline}\t{peak}"));
        return 0;
    }
}
