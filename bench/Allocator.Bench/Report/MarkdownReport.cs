using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Allocator.Bench.Harness;
using Allocator.Bench.Peers;
using Allocator.Bench.Workloads;

namespace Allocator.Bench.Report;

/// <summary>Writes the report: medians, ratios to the best peer, and the memory run.</summary>
public static class MarkdownReport
{
    public static string Write(RunReport r, string timingsSvg, string memorySvg)
    {
        var md = new StringBuilder();
        Machine m = r.Machine;
        md.AppendLine($"# Allocator benchmark ({r.Settings.Mode} mode)");
        md.AppendLine();
        md.AppendLine($"- Machine: {m.Cpu}, {m.LogicalCores} logical cores, {m.Memory} RAM; {m.Os}");
        md.AppendLine($"- Runtime: {m.Runtime}; GC {m.Gc}");
        md.AppendLine(Inv($"- Run: {r.StartedUtc:yyyy-MM-dd HH:mm} UTC; 1-minute load average {m.LoadAverage} at the start, {r.LoadAverageAtEnd} at the end (other work on the machine shows up as spread)"));
        if (Busy(m.LoadAverage, r.LoadAverageAtEnd, m.LogicalCores) is { } load)
            md.AppendLine(Inv($"- **The machine was busy** (load {load:F1} on {m.LogicalCores} cores): other processes took CPU time during the run, so medians are inflated and differences below about 20% are not meaningful; compare ratios within one run only."));
        md.AppendLine(Inv($"- Method: per cell, warm-up for at least {r.Settings.WarmUp.TotalMilliseconds:F0} ms, then {r.Settings.Runs} timed runs; the figure is the median ns per operation, ± half the interquartile range as a percentage of the median. Fixed seeds: every peer replays the same sequence."));
        md.AppendLine();

        md.AppendLine("## Peers");
        md.AppendLine();
        md.AppendLine("| peer | what was measured |");
        md.AppendLine("| --- | --- |");
        foreach (var p in r.Peers)
            md.AppendLine($"| {p.Name} | {p.Description} |");
        foreach (var s in r.Skipped)
            md.AppendLine($"| {s.Peer} | **skipped**: {s.Reason} |");
        md.AppendLine();

        WriteGoals(md, r);
        if (r.Timings.Count > 0)
        {
            WriteLikeForLike(md, r);
            WriteTimings(md, r);
        }
        if (r.Memory.Count > 0 && r.MemoryPlan is { } plan)
            WriteMemory(md, r, plan);

        md.AppendLine("## Charts");
        md.AppendLine();
        if (r.Timings.Count > 0)
            md.AppendLine($"![Time per operation, per workload]({timingsSvg})");
        md.AppendLine();
        if (r.Memory.Any(m => m.Result is not null))
            md.AppendLine($"![RSS through the memory run]({memorySvg})");
        md.AppendLine();
        md.AppendLine("What each workload does and how to read the figures: bench/README.md.");
        return md.ToString();
    }

    private static void WriteGoals(StringBuilder md, RunReport r)
    {
        md.AppendLine("## Goals (issues 4, 7 and 16)");
        md.AppendLine();
        if (r.Subject is not { } subject)
        {
            md.AppendLine("No project allocator took part in this run, so the goals are not checked. They are checked for the peer of kind Project in `PeerRegistry` (see bench/README.md, \"Adding the arena\"), or for the one named with `--subject`.");
            md.AppendLine();
            return;
        }
        md.AppendLine($"Subject: **{subject}**.");
        md.AppendLine();
        md.AppendLine("| issue | goal | measured | met |");
        md.AppendLine("| --- | --- | --- | --- |");
        foreach (GoalCheck g in Goals.Check(r, subject))
            md.AppendLine($"| {g.Issue} | {g.Goal} | {g.Measured} | {(g.Met is null ? "–" : g.Met.Value ? "yes" : "**no**")} |");
        md.AppendLine();
    }

    /// <summary>Every arena row against its like: a Free row over the fastest native unsized free,
    /// a FreeSized row over the fastest native path of either kind.</summary>
    private static void WriteLikeForLike(StringBuilder md, RunReport r)
    {
        PeerEntry[] arenas = r.Peers.Where(p => p.Kind == PeerKind.Project).ToArray();
        PeerEntry[] natives = r.Peers.Where(p => p.Kind == PeerKind.Native).ToArray();
        if (arenas.Length == 0 || natives.Length == 0)
            return;
        md.AppendLine("## Like for like (ratio; below 1.00 the arena is faster)");
        md.AppendLine();
        md.AppendLine("Each arena row over the fastest native row with the same kind of free: a `Free` row over the fastest unsized free (`free`, `mi_free`, `tc_free`), a `FreeSized` row over the fastest native path of either kind (unsized, or `sdallocx`, `mi_free_size`, `tc_free_sized`).");
        md.AppendLine();
        Header(md, ["workload", "fastest unsized", "fastest of either"], arenas.Select(a => a.Name).ToArray());
        foreach (Workload w in r.Workloads)
        {
            var row = Row(r, w);
            var unsized = row.Where(kv => natives.Any(n => n.Name == kv.Key && !n.PassesSize)).OrderBy(kv => kv.Value.Median).FirstOrDefault();
            var any = row.Where(kv => natives.Any(n => n.Name == kv.Key)).OrderBy(kv => kv.Value.Median).FirstOrDefault();
            if (unsized.Value is null || any.Value is null)
                continue;
            md.Append(Inv($"| {w.Title} | {unsized.Key} {unsized.Value.Median:F1} | {any.Key} {any.Value.Median:F1} |"));
            foreach (PeerEntry a in arenas)
            {
                Stats baseline = a.PassesSize ? any.Value : unsized.Value;
                md.Append(row.TryGetValue(a.Name, out Stats? s) ? Inv($" {s.Median / baseline.Median:F2} |") : " – |");
            }
            md.AppendLine();
        }
        md.AppendLine();
    }

    private static void WriteTimings(StringBuilder md, RunReport r)
    {
        string[] peers = r.Peers.Select(p => p.Name).ToArray();
        string[] natives = r.Peers.Where(p => p.Kind == PeerKind.Native).Select(p => p.Name).ToArray();
        md.AppendLine("## Time per operation (median ns)");
        md.AppendLine();
        Header(md, ["workload", "one operation"], peers);
        foreach (Workload w in r.Workloads)
        {
            var row = Row(r, w);
            if (row.Count == 0)
                continue;
            md.Append($"| {w.Title} | {w.Unit} |");
            foreach (string p in peers)
                md.Append(row.TryGetValue(p, out Stats? s) ? Inv($" {s.Median:F1} ±{s.Spread * 50:F0}% |") : " – |");
            md.AppendLine();
        }
        md.AppendLine();

        md.AppendLine("## Ratio to the fastest peer (1.00 = fastest; lower is better)");
        md.AppendLine();
        Header(md, ["workload", "fastest", "fastest native"], peers);
        foreach (Workload w in r.Workloads)
        {
            var row = Row(r, w);
            if (row.Count == 0)
                continue;
            var best = row.MinBy(kv => kv.Value.Median);
            string native = row.Where(kv => natives.Contains(kv.Key)).OrderBy(kv => kv.Value.Median).Select(kv => kv.Key).FirstOrDefault() ?? "–";
            md.Append($"| {w.Title} | {best.Key} | {native} |");
            foreach (string p in peers)
                md.Append(row.TryGetValue(p, out Stats? s) ? Inv($" {s.Median / best.Value.Median:F2} |") : " – |");
            md.AppendLine();
        }
        md.AppendLine();
    }

    private static void WriteMemory(StringBuilder md, RunReport r, MemoryPlan plan)
    {
        md.AppendLine("## Memory run (RSS from /proc/self/status, MiB; each peer in its own process)");
        md.AppendLine();
        md.AppendLine(Inv($"{plan.Sizes.Length:N0} blocks of {MemoryPlan.MinSize} B..{MemoryPlan.MaxSize / 1024} KiB, {Mib(plan.RequestedBytes)} MiB requested, every page written; then {plan.FreeCount:N0} blocks (90%) freed in random order, leaving {Mib(plan.LiveBytes)} MiB live; then the peer's purge."));
        md.AppendLine("\"overhead\" is (RSS after purge − baseline) / live bytes: 1.00 would be a perfect fit.");
        md.AppendLine();
        md.AppendLine("| peer | baseline | peak | after free | after purge | of which MADV_FREE | high water | overhead after purge | peak vs lowest peak | allocate ms | free ms | purge ms |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        long lowestPeak = r.Memory.Where(o => o.Result is not null).Select(o => o.Result!.PeakKiB - o.Result.BaselineKiB).DefaultIfEmpty(1).Min();
        foreach (MemoryOutcome o in r.Memory)
        {
            if (o.Result is not { } x)
            {
                md.AppendLine($"| {o.Peer} | failed: {o.Failure} ||||||||||| ");
                continue;
            }
            double overhead = (x.AfterPurgeKiB - x.BaselineKiB) * 1024.0 / x.LiveBytes;
            double peakRatio = (double)(x.PeakKiB - x.BaselineKiB) / Math.Max(1, lowestPeak);
            md.AppendLine(Inv($"| {o.Peer} | {x.BaselineKiB / 1024.0:F1} | {x.PeakKiB / 1024.0:F1} | {x.AfterFreeKiB / 1024.0:F1} | {x.AfterPurgeKiB / 1024.0:F1} | {x.LazyFreeKiB / 1024.0:F1} | {x.HighWaterKiB / 1024.0:F1} | {overhead:F2} | {peakRatio:F2} | {x.AllocateMs:F0} | {x.FreeMs:F0} | {x.PurgeMs:F0} |"));
        }
        md.AppendLine();
        md.AppendLine("Peak and its ratio are measured above each process's own baseline. High water is the kernel's VmHWM at the end, which the kernel updates lazily and may trail the peak by a few hundred KiB. \"Of which MADV_FREE\" is LazyFree from /proc/self/smaps_rollup after the purge: pages the allocator gave back with MADV_FREE, which stay in RSS until the kernel needs memory.");
        md.AppendLine();
    }

    /// <summary>A table head: text columns, then one right-aligned column per peer.</summary>
    private static void Header(StringBuilder md, string[] leading, string[] peers)
    {
        md.AppendLine($"| {string.Join(" | ", leading.Concat(peers))} |");
        md.AppendLine($"|{string.Concat(Enumerable.Repeat(" --- |", leading.Length))}{string.Concat(Enumerable.Repeat(" ---: |", peers.Length))}");
    }

    private static Dictionary<string, Stats> Row(RunReport r, Workload w) =>
        r.Timings.Where(t => t.Workload.Id == w.Id).ToDictionary(t => t.Peer, t => t.Stats);

    /// <summary>The higher of the two load averages when it exceeds the core count, else null.</summary>
    private static double? Busy(string start, string end, int cores)
    {
        double load = Math.Max(Parse(start), Parse(end));
        return load > cores ? load : null;

        static double Parse(string text) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : 0;
    }

    private static string Mib(long bytes) => (bytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
