using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Allocator.Bench.Harness;
using Allocator.Bench.Peers;

namespace Allocator.Bench.Report;

/// <summary>Hand-written SVG charts: plain shapes and text, readable in any browser or on GitHub.</summary>
public static class Svg
{
    private static readonly string[] Palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#9c755f", "#76b7b2", "#edc948"];

    private const string Font = "font-family=\"DejaVu Sans, Arial, sans-serif\"";

    /// <summary>One panel per workload, one horizontal bar per peer. Each panel has its own
    /// logarithmic scale: within one workload the peers differ by up to four orders of
    /// magnitude (new byte[1 MiB] against a pooled array), and a linear bar would hide all
    /// but the slowest.</summary>
    public static string Timings(RunReport r)
    {
        string[] peers = r.Peers.Select(p => p.Name).ToArray();
        var workloads = r.Workloads.Where(w => r.Timings.Any(t => t.Workload.Id == w.Id)).ToArray();
        const int columns = 2, panelWidth = 470, labelWidth = 90, valueWidth = 130, rowHeight = 20, panelHeader = 30, gap = 20, top = 50;
        int panelHeight = panelHeader + peers.Length * rowHeight + 22;
        int rows = (workloads.Length + columns - 1) / columns;
        int width = columns * panelWidth + (columns + 1) * gap;
        int height = top + rows * (panelHeight + gap);

        var svg = Begin(width, height);
        Text(svg, gap, 30, $"Time per operation, median ns, log scale ({r.Settings.Mode} mode; shorter is better; × = ratio to the fastest)", 15, "bold");
        for (int k = 0; k < workloads.Length; k++)
        {
            int x0 = gap + k % columns * (panelWidth + gap);
            int y0 = top + k / columns * (panelHeight + gap);
            var cells = r.Timings.Where(t => t.Workload.Id == workloads[k].Id).ToDictionary(t => t.Peer, t => t.Stats.Median);
            double min = cells.Values.Min();
            // The axis runs over whole decades around the panel's values.
            double lo = Math.Pow(10, Math.Floor(Math.Log10(min)));
            double hi = Math.Pow(10, Math.Ceiling(Math.Log10(cells.Values.Max())));
            if (hi <= lo)
                hi = lo * 10;
            double barSpace = panelWidth - labelWidth - valueWidth - 8;
            double Length(double ns) => barSpace * Math.Log(ns / lo) / Math.Log(hi / lo);

            svg.Append(Inv($"<rect x=\"{x0}\" y=\"{y0}\" width=\"{panelWidth}\" height=\"{panelHeight}\" fill=\"#fafafa\" stroke=\"#ddd\"/>\n"));
            Text(svg, x0 + 8, y0 + 20, workloads[k].Title, 13, "bold");
            int barsBottom = y0 + panelHeader + peers.Length * rowHeight;
            for (double d = lo; d <= hi * 1.001; d *= 10)
            {
                double x = x0 + labelWidth + Length(d);
                svg.Append(Inv($"<line x1=\"{x:F1}\" y1=\"{y0 + panelHeader - 2}\" x2=\"{x:F1}\" y2=\"{barsBottom + 2}\" stroke=\"#ddd\"/>\n"));
                Text(svg, x, barsBottom + 14, Decade(d), 10, anchor: "middle", fill: "#888");
            }
            for (int i = 0; i < peers.Length; i++)
            {
                int y = y0 + panelHeader + i * rowHeight;
                Text(svg, x0 + 8, y + 14, peers[i], 12);
                if (!cells.TryGetValue(peers[i], out double ns))
                {
                    Text(svg, x0 + labelWidth, y + 14, "–", 12);
                    continue;
                }
                double w = Math.Max(2, Length(ns));
                svg.Append(Inv($"<rect x=\"{x0 + labelWidth}\" y=\"{y + 3}\" width=\"{w:F1}\" height=\"{rowHeight - 6}\" fill=\"{Colour(peers[i])}\"/>\n"));
                Text(svg, x0 + labelWidth + w + 6, y + 14, Inv($"{Number(ns)} ns ×{ns / min:F2}"), 12);
            }
        }
        return End(svg);
    }

    /// <summary>RSS at each phase of the memory run, one line per peer.</summary>
    public static string Memory(RunReport r)
    {
        var runs = r.Memory.Where(o => o.Result is not null).ToArray();
        string[] phases = ["baseline", "peak", "after free", "after purge"];
        const int width = 820, height = 440, left = 70, right = 190, top = 60, bottom = 50;
        double plotW = width - left - right, plotH = height - top - bottom;

        double maxMib = runs.Select(o => o.Result!).Max(x => Math.Max(x.PeakKiB, x.AfterFreeKiB)) / 1024.0;
        double step = NiceStep(maxMib / 6);
        double yMax = Math.Ceiling(maxMib / step) * step;
        double X(int phase) => left + plotW * phase / (phases.Length - 1);
        double Y(double mib) => top + plotH * (1 - mib / yMax);

        var svg = Begin(width, height);
        string live = r.MemoryPlan is { } plan ? Inv($"; {plan.LiveBytes / 1048576.0:F0} MiB live after the free") : "";
        Text(svg, 20, 28, Inv($"RSS through the memory run, MiB ({r.Settings.Mode} mode{live})"), 16, "bold");
        for (double v = 0; v <= yMax + step / 2; v += step)
        {
            svg.Append(Inv($"<line x1=\"{left}\" y1=\"{Y(v):F1}\" x2=\"{left + plotW}\" y2=\"{Y(v):F1}\" stroke=\"#e5e5e5\"/>\n"));
            Text(svg, left - 8, Y(v) + 4, Inv($"{v:F0}"), 11, anchor: "end");
        }
        for (int p = 0; p < phases.Length; p++)
            Text(svg, X(p), top + plotH + 22, phases[p], 12, anchor: "middle");

        // The goal line: 1.1 × live bytes above the lowest baseline.
        if (r.MemoryPlan is { } mp && runs.Length > 0)
        {
            double goal = runs.Min(o => o.Result!.BaselineKiB) / 1024.0 + 1.1 * mp.LiveBytes / 1048576.0;
            svg.Append(Inv($"<line x1=\"{left}\" y1=\"{Y(goal):F1}\" x2=\"{left + plotW}\" y2=\"{Y(goal):F1}\" stroke=\"#555\" stroke-dasharray=\"6 4\"/>\n"));
            Text(svg, left + plotW + 8, Y(goal) + 4, "baseline + 1.1 × live", 11);
        }

        for (int k = 0; k < runs.Length; k++)
        {
            var x = runs[k].Result!;
            string colour = Colour(runs[k].Peer);
            double[] mib = [x.BaselineKiB / 1024.0, x.PeakKiB / 1024.0, x.AfterFreeKiB / 1024.0, x.AfterPurgeKiB / 1024.0];
            string points = string.Join(' ', mib.Select((v, p) => Inv($"{X(p):F1},{Y(v):F1}")));
            svg.Append($"<polyline points=\"{points}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>\n");
            for (int p = 0; p < mib.Length; p++)
                svg.Append(Inv($"<circle cx=\"{X(p):F1}\" cy=\"{Y(mib[p]):F1}\" r=\"3.5\" fill=\"{colour}\"><title>{Escape(runs[k].Peer)} {phases[p]}: {mib[p]:F1} MiB</title></circle>\n"));
            double ly = top + 10 + k * 20;
            svg.Append(Inv($"<rect x=\"{width - right + 20}\" y=\"{ly + 30}\" width=\"14\" height=\"10\" fill=\"{colour}\"/>\n"));
            Text(svg, width - right + 40, ly + 40, Inv($"{runs[k].Peer}: {mib[3]:F0}"), 12);
        }
        Text(svg, width - right + 20, top + 28, "peer: after purge", 11);
        return End(svg);
    }

    private static StringBuilder Begin(int width, int height)
    {
        var svg = new StringBuilder();
        svg.Append(Inv($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" {Font}>\n"));
        svg.Append(Inv($"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n"));
        return svg;
    }

    private static string End(StringBuilder svg) => svg.Append("</svg>\n").ToString();

    private static void Text(StringBuilder svg, double x, double y, string text, int size, string weight = "normal", string anchor = "start", string fill = "#222") =>
        svg.Append(Inv($"<text x=\"{x:F1}\" y=\"{y:F1}\" font-size=\"{size}\" font-weight=\"{weight}\" text-anchor=\"{anchor}\" fill=\"{fill}\">{Escape(text)}</text>\n"));

    /// <summary>A peer's colour follows its place in the registry, so it is the same in every
    /// chart and every run, whichever peers were selected.</summary>
    private static string Colour(string peer)
    {
        int index = 0;
        for (int i = 0; i < PeerRegistry.All.Count; i++)
            if (PeerRegistry.All[i].Name == peer)
                index = i;
        return Palette[index % Palette.Length];
    }

    /// <summary>A round grid step (1, 2 or 5 times a power of ten) near <paramref name="rough"/>.</summary>
    private static double NiceStep(double rough)
    {
        if (rough <= 0)
            return 1;
        double power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        double f = rough / power;
        return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * power;
    }

    /// <summary>About three significant figures, so 4.12 and 41,234 both read well.</summary>
    private static string Number(double v) =>
        v >= 100 ? v.ToString("N0", CultureInfo.InvariantCulture) : v.ToString(v >= 10 ? "F1" : "F2", CultureInfo.InvariantCulture);

    /// <summary>A tick label for a power of ten: 1, 10, 100, 1k ... 1M.</summary>
    private static string Decade(double v) => v switch
    {
        >= 1e6 => Inv($"{v / 1e6:0.##}M"),
        >= 1e3 => Inv($"{v / 1e3:0.##}k"),
        _ => Inv($"{v:0.##}"),
    };

    private static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;");

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
