using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Allocator.Bench.Harness;

namespace Allocator.Bench.Suite;

/// <summary>Writes the suite's report: time and peak RSS per workload and peer, as ratios to
/// jemalloc with their geometric means, and the issue-16 goals for each arena row.</summary>
public static class SuiteMarkdown
{
    public const string Reference = "jemalloc free";

    public static string Write(SuiteReport r)
    {
        var md = new StringBuilder();
        Machine m = r.Machine;
        md.AppendLine($"# mimalloc-bench workloads, ported ({r.Scale.Mode} mode)");
        md.AppendLine();
        md.AppendLine($"- Machine: {m.Cpu}, {m.LogicalCores} logical cores, {m.Memory} RAM; {m.Os}; {m.Runtime}");
        md.AppendLine(Inv($"- Run: {r.StartedUtc:yyyy-MM-dd HH:mm} UTC; 1-minute load average {m.LoadAverage} at the start, {r.LoadAverageAtEnd} at the end"));
        md.AppendLine(Inv($"- Method: every run of every workload and peer is its own process (a warm-up pass at the timed scale, then short passes until tiered compilation settles, a GC, the peer's own purge and glibc's malloc_trim for what the JIT freed, then one timed run); {r.Scale.Runs} run(s) per cell, interleaved; the figure is the median. Time is the workload's wall time; peak RSS is the process's VmHWM during the timed run (the .NET runtime included, as /usr/bin/time counts the whole C program)."));
        md.AppendLine("- Command: `dotnet run -c Release --project bench/Allocator.Bench -- suite" + (r.Scale.Mode == "quick" ? " --quick`" : "`"));
        md.AppendLine();
        foreach (SkippedPeer s in r.Skipped)
            md.AppendLine($"- {s.Peer}: **skipped**: {s.Reason}");
        if (r.Skipped.Count > 0)
            md.AppendLine();

        WriteGoals(md, r);
        Table(md, r, "Time (median ms)", c => c.MedianSeconds * 1000, "F1");
        Ratios(md, r, "Time, ratio to jemalloc free (lower is better)", c => c.MedianSeconds);
        Table(md, r, "Peak RSS of the process (median MiB)", c => c.MedianPeakKiB / 1024, "F1");
        Ratios(md, r, "Peak RSS, ratio to jemalloc free", c => c.MedianPeakKiB);
        Table(md, r, "Peak RSS above the RSS before the timed run (median MiB)", c => c.MedianGrowthKiB / 1024, "F1");
        md.AppendLine("What each workload does, and where the port differs from the C program: bench/README.md, \"mimalloc-bench workloads\".");
        return md.ToString();
    }

    /// <summary>The geometric mean of a peer's ratios to jemalloc over the workloads both ran, and the worst one.</summary>
    public static (double? GeoMean, double? Worst, string? WorstWorkload) Summary(SuiteReport r, string peer, Func<SuiteCell, double?> value)
    {
        var ratios = new List<(string Workload, double Ratio)>();
        foreach (string w in Workloads(r))
        {
            double? own = Cell(r, w, peer) is { } c ? value(c) : null;
            double? je = Cell(r, w, Reference) is { } j ? value(j) : null;
            if (own is > 0 && je is > 0)
                ratios.Add((w, own.Value / je.Value));
        }
        if (ratios.Count == 0)
            return (null, null, null);
        var worst = ratios.MaxBy(x => x.Ratio);
        return (Math.Exp(ratios.Average(x => Math.Log(x.Ratio))), worst.Ratio, worst.Workload);
    }

    private static void WriteGoals(StringBuilder md, SuiteReport r)
    {
        string[] arenas = r.Peers.Where(p => Peers.PeerRegistry.Find(p) is { } d && d.Id.StartsWith("arena", StringComparison.Ordinal)).ToArray();
        if (arenas.Length == 0 || !r.Peers.Contains(Reference))
            return;
        md.AppendLine("## Goals (issue 16)");
        md.AppendLine();
        md.AppendLine("Each arena row against `jemalloc free`; a figure in bold misses its limit.");
        md.AppendLine();
        md.AppendLine("| row | geometric mean of time ratios (at most 1.0) | worst time ratio (at most 1.5) | geometric mean of peak RSS ratios (at most 1.1) | worst peak RSS ratio |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        foreach (string a in arenas)
        {
            var t = Summary(r, a, c => c.MedianSeconds);
            var p = Summary(r, a, c => c.MedianPeakKiB);
            md.AppendLine($"| {a} | {Mark(t.GeoMean, 1.0)} | {Mark(t.Worst, 1.5)} ({t.WorstWorkload}) | {Mark(p.GeoMean, 1.1)} | {Fmt(p.Worst)} ({p.WorstWorkload}) |");
        }
        md.AppendLine();
    }

    private static void Table(StringBuilder md, SuiteReport r, string title, Func<SuiteCell, double?> value, string format)
    {
        md.AppendLine($"## {title}");
        md.AppendLine();
        Header(md, r);
        foreach (string w in Workloads(r))
        {
            md.Append($"| {w} |");
            foreach (string p in r.Peers)
                md.Append(Cell(r, w, p) is { } c ? c.Failure is not null ? " failed |" : value(c) is { } v ? $" {v.ToString(format, CultureInfo.InvariantCulture)} |" : " – |" : " – |");
            md.AppendLine();
        }
        md.AppendLine();
    }

    private static void Ratios(StringBuilder md, SuiteReport r, string title, Func<SuiteCell, double?> value)
    {
        if (!r.Peers.Contains(Reference))
            return;
        md.AppendLine($"## {title}");
        md.AppendLine();
        Header(md, r);
        foreach (string w in Workloads(r))
        {
            double? je = Cell(r, w, Reference) is { } j ? value(j) : null;
            md.Append($"| {w} |");
            foreach (string p in r.Peers)
                md.Append(Cell(r, w, p) is { } c && value(c) is { } v && je is > 0 ? Inv($" {v / je.Value:F2} |") : " – |");
            md.AppendLine();
        }
        md.Append("| **geometric mean** |");
        foreach (string p in r.Peers)
            md.Append($" **{Fmt(Summary(r, p, value).GeoMean)}** |");
        md.AppendLine();
        md.AppendLine();
    }

    private static void Header(StringBuilder md, SuiteReport r)
    {
        md.AppendLine($"| workload | {string.Join(" | ", r.Peers)} |");
        md.AppendLine($"| --- |{string.Concat(Enumerable.Repeat(" ---: |", r.Peers.Count))}");
    }

    private static IEnumerable<string> Workloads(SuiteReport r) => r.Cells.Select(c => c.Workload).Distinct();

    private static SuiteCell? Cell(SuiteReport r, string workload, string peer) =>
        r.Cells.FirstOrDefault(c => c.Workload == workload && c.Peer == peer);

    private static string Mark(double? value, double limit) =>
        value is null ? "–" : value <= limit ? Fmt(value) : $"**{Fmt(value)}**";

    private static string Fmt(double? value) => value is { } v ? v.ToString("F2", CultureInfo.InvariantCulture) : "–";

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
