using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using Allocator.Bench.Peers;
using Allocator.Bench.Workloads;

namespace Allocator.Bench.Harness;

/// <summary>One timed cell of the report.</summary>
public sealed record TimingResult(Workload Workload, string Peer, Stats Stats);

/// <summary>One peer's memory run, or why it has none.</summary>
public sealed record MemoryOutcome(string Peer, MemoryRunResult? Result, string? Failure);

/// <summary>A peer that was asked for but is not measured, and why.</summary>
public sealed record SkippedPeer(string Peer, string Reason);

/// <summary>Everything one invocation measured.</summary>
public sealed record RunReport(
    RunSettings Settings, Machine Machine, DateTime StartedUtc, string LoadAverageAtEnd,
    IReadOnlyList<PeerEntry> Peers, IReadOnlyList<SkippedPeer> Skipped, string? Subject,
    IReadOnlyList<Workload> Workloads, IReadOnlyList<TimingResult> Timings,
    MemoryPlan? MemoryPlan, IReadOnlyList<MemoryOutcome> Memory);

public static class Runner
{
    private const string MemoryLinePrefix = "MEMORY\t";
    private const string SkipLinePrefix = "SKIP\t";

    /// <summary>Measures <paramref name="wanted"/>; the goals are checked for <paramref name="subject"/>
    /// (a peer id or name) or, when that is null, for the first peer of kind Project.</summary>
    public static RunReport Run(RunSettings settings, IReadOnlyList<PeerDescriptor> wanted, bool timings, bool memory, string? subject)
    {
        DateTime started = DateTime.UtcNow;
        Machine machine = Machine.Describe();
        Console.WriteLine($"{machine.Cpu}, {machine.LogicalCores} logical cores, {machine.Runtime}, load {machine.LoadAverage}");

        var peers = new List<PeerEntry>();
        var loaded = new List<PeerDescriptor>();
        var skipped = new List<SkippedPeer>();
        foreach (PeerDescriptor d in wanted)
        {
            PeerProbe probe = d.Probe();
            if (probe.Entry is { } entry)
            {
                peers.Add(entry);
                loaded.Add(d);
                Console.WriteLine($"  peer {d.Name,-22} {entry.Description}");
            }
            else
            {
                skipped.Add(new SkippedPeer(d.Name, probe.SkipReason ?? "unknown"));
                Console.WriteLine($"  peer {d.Name,-22} SKIPPED: {probe.SkipReason}");
            }
        }

        IReadOnlyList<Workload> workloads = WorkloadCatalog.Timed(settings);
        var results = new List<TimingResult>();
        if (timings)
        {
            foreach (Workload w in workloads)
                results.AddRange(MeasureInterleaved(w, peers, settings));
        }

        MemoryPlan? plan = null;
        var memoryResults = new List<MemoryOutcome>();
        if (memory)
        {
            plan = new MemoryPlan(settings.MemoryBytes, 0.9);
            foreach (PeerDescriptor d in loaded)
            {
                MemoryOutcome outcome = RunMemoryChild(d, settings.MemoryBytes);
                memoryResults.Add(outcome);
                if (outcome.Result is { } r)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  memory {d.Name,-22} baseline {r.BaselineKiB / 1024.0,7:F1} MiB, peak {r.PeakKiB / 1024.0,7:F1}, after free {r.AfterFreeKiB / 1024.0,7:F1}, after purge {r.AfterPurgeKiB / 1024.0,7:F1} (lazily freed {r.LazyFreeKiB / 1024.0:F1})"));
                else
                    Console.WriteLine($"  memory {d.Name,-22} FAILED: {outcome.Failure}");
            }
        }

        // Ids and names share PeerRegistry.Find's rule; a subject that did not load has no goals.
        string? subjectName = subject is null
            ? peers.FirstOrDefault(p => p.Kind == PeerKind.Project)?.Name
            : PeerRegistry.Find(subject) is { } named && peers.Any(p => p.Name == named.Name) ? named.Name : null;
        return new RunReport(settings, machine, started, Machine.LoadAverageNow(), peers, skipped, subjectName, workloads, results, plan, memoryResults);
    }

    /// <summary>
    /// Times one workload for every peer, taking the peers in turn for each timed run rather than
    /// one peer's runs back to back: on a shared 2-core machine a burst of other work then lands on
    /// one run of several peers instead of on every run of one peer.
    /// </summary>
    private static IEnumerable<TimingResult> MeasureInterleaved(Workload w, IReadOnlyList<PeerEntry> peers, RunSettings settings)
    {
        var runs = new ITimedRun[peers.Count];
        try
        {
            for (int k = 0; k < peers.Count; k++)
            {
                runs[k] = w.Create(peers[k]);
                Stats.WarmUp(runs[k], settings);
            }
            var samples = new double[peers.Count][];
            for (int k = 0; k < peers.Count; k++)
                samples[k] = new double[settings.Runs];
            for (int i = 0; i < settings.Runs; i++)
            {
                for (int k = 0; k < peers.Count; k++)
                {
                    // Each run starts from a collected heap, so no peer pays for another's garbage.
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    samples[k][i] = Stats.Sample(runs[k]);
                }
            }
            var results = new List<TimingResult>();
            for (int k = 0; k < peers.Count; k++)
            {
                Stats s = Stats.FromSamples(samples[k], runs[k].Operations);
                results.Add(new TimingResult(w, peers[k].Name, s));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {w.Title,-24} {peers[k].Name,-22} {s.Median,10:F1} ns  (IQR ±{s.Spread * 50,4:F1}%, min {s.Min:F1}, max {s.Max:F1})"));
            }
            return results;
        }
        finally
        {
            foreach (ITimedRun? run in runs)
                run?.Dispose();
        }
    }

    /// <summary>Runs the memory run for one peer in a fresh process of this same program, so that
    /// the RSS it reads belongs to that peer alone.</summary>
    internal static MemoryOutcome RunMemoryChild(PeerDescriptor peer, long bytes)
    {
        ProcessStartInfo start = Tunables.Self(["memory-child", "--peer", peer.Id, "--bytes", bytes.ToString(CultureInfo.InvariantCulture)]);
        HugePageReport.SetMallocConf(start, peer.Id);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using Process child = Process.Start(start) ?? throw new InvalidOperationException("Could not start the memory child.");
        var stderr = child.StandardError.ReadToEndAsync();
        string stdout = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        foreach (string line in stdout.Split('\n'))
        {
            if (line.StartsWith(MemoryLinePrefix, StringComparison.Ordinal))
                return new MemoryOutcome(peer.Name, ParseMemoryLine(line[MemoryLinePrefix.Length..]), null);
            if (line.StartsWith(SkipLinePrefix, StringComparison.Ordinal))
                return new MemoryOutcome(peer.Name, null, line[SkipLinePrefix.Length..].Trim());
        }
        string tail = stderr.Result.Trim();
        if (tail.Length > 300)
            tail = tail[^300..];
        return new MemoryOutcome(peer.Name, null, $"child exited with {child.ExitCode}: {tail}");
    }

    /// <summary>The child side: one peer, one memory run, one result line on stdout.</summary>
    public static int MemoryChild(string peerId, long bytes)
    {
        PeerDescriptor? d = PeerRegistry.Find(peerId);
        if (d is null)
        {
            Console.WriteLine($"{SkipLinePrefix}unknown peer '{peerId}'");
            return 2;
        }
        PeerProbe probe = d.Probe();
        if (probe.Entry is null)
        {
            Console.WriteLine($"{SkipLinePrefix}{probe.SkipReason}");
            return 2;
        }
        MemoryRunResult r = probe.Entry.RunMemory(new MemoryPlan(bytes, 0.9));
        Console.WriteLine(MemoryLinePrefix + string.Join('\t', new object[]
        {
            r.BaselineKiB, r.PeakKiB, r.AfterFreeKiB, r.AfterPurgeKiB, r.HighWaterKiB, r.LazyFreeKiB,
            r.RequestedBytes, r.LiveBytes, r.Blocks, r.AllocateMs, r.FreeMs, r.PurgeMs,
        }.Select(o => Convert.ToString(o, CultureInfo.InvariantCulture))));
        return 0;
    }

    private static MemoryRunResult ParseMemoryLine(string text)
    {
        string[] f = text.Trim().Split('\t');
        long L(int i) => long.Parse(f[i], CultureInfo.InvariantCulture);
        double D(int i) => double.Parse(f[i], CultureInfo.InvariantCulture);
        return new MemoryRunResult(L(0), L(1), L(2), L(3), L(4), L(5), L(6), L(7), (int)L(8), D(9), D(10), D(11));
    }
}
