using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Allocator.Bench.Harness;
using Allocator.Bench.Peers;

namespace Allocator.Bench.Report;

/// <summary>One target from issues 4 and 7, checked against this run. <see cref="Met"/> is null
/// when a figure it needs was not measured.</summary>
public sealed record GoalCheck(string Issue, string Goal, string Measured, bool? Met);

/// <summary>
/// The performance targets that the issues set for the project's allocator, as ratios to the
/// peers of the same run. The subject is the peer of kind <see cref="PeerKind.Project"/> (or the
/// one named with --subject, which lets the checks be exercised before the arena exists).
/// </summary>
public static class Goals
{
    public static IReadOnlyList<GoalCheck> Check(RunReport r, string subject)
    {
        var checks = new List<GoalCheck>();
        string[] natives = r.Peers.Where(p => p.Kind == PeerKind.Native && p.Name != subject).Select(p => p.Name).ToArray();
        // The project's other rows (the same arena called through its base class) are not rivals.
        string[] others = r.Peers.Where(p => p.Name != subject && p.Kind != PeerKind.Project).Select(p => p.Name).ToArray();

        double? own64 = Median(r, "pair-64", subject);
        checks.Add(new("4", "64 B pair under 5 ns", own64 is { } v ? Inv($"{v:F1} ns") : "not measured", own64 is null ? null : own64 < 5));

        var sizes = r.Workloads.Where(w => w.Id.StartsWith("pair-", StringComparison.Ordinal)).ToArray();
        var glibcRatios = sizes.Select(w => (w.Title, Ratio: Median(r, w.Id, subject) / Median(r, w.Id, "glibc"))).ToArray();
        if (glibcRatios.Length > 0 && glibcRatios.All(x => x.Ratio is not null))
        {
            var worst = glibcRatios.MaxBy(x => x.Ratio!.Value);
            checks.Add(new("4", "pairs faster than glibc at every size", Inv($"worst {worst.Ratio:F2}× glibc ({worst.Title})"), worst.Ratio < 1));
        }
        else
        {
            checks.Add(new("4", "pairs faster than glibc at every size", "not measured", null));
        }

        checks.Add(Against(r, "7", "64 B pair at most 0.6× jemalloc", "pair-64", subject, ["jemalloc"], 0.6));
        checks.Add(Against(r, "7", "live set at most 1.0× the fastest peer", "live-set", subject, others, 1.0));
        checks.Add(Against(r, "7", "64 KiB pair at most 1.0× the fastest native peer", "pair-65536", subject, natives, 1.0));
        checks.Add(Against(r, "7", "1 MiB pair at most 1.0× the fastest native peer", "pair-1048576", subject, natives, 1.0));
        checks.Add(Against(r, "7", "cross-thread at most 1.0× jemalloc", "cross-thread", subject, ["jemalloc"], 1.0));

        var own = r.Memory.FirstOrDefault(m => m.Peer == subject)?.Result;
        var je = r.Memory.FirstOrDefault(m => m.Peer == "jemalloc")?.Result;
        if (own is not null)
        {
            double limitKiB = own.BaselineKiB + 1.1 * own.LiveBytes / 1024.0;
            checks.Add(new("7", "RSS after purge at most baseline + 1.1× live bytes",
                Inv($"{own.AfterPurgeKiB / 1024.0:F1} MiB against {limitKiB / 1024.0:F1} ({(own.AfterPurgeKiB - own.BaselineKiB) * 1024.0 / own.LiveBytes:F2}× live)"),
                own.AfterPurgeKiB <= limitKiB));
        }
        else
        {
            checks.Add(new("7", "RSS after purge at most baseline + 1.1× live bytes", "not measured", null));
        }
        checks.Add(own is not null && je is not null
            ? new("7", "peak RSS at most jemalloc's", Inv($"{own.PeakKiB / 1024.0:F1} MiB against {je.PeakKiB / 1024.0:F1}"), own.PeakKiB <= je.PeakKiB)
            : new("7", "peak RSS at most jemalloc's", "not measured", null));
        return checks;
    }

    /// <summary>The subject's median over the fastest of <paramref name="rivals"/>, against a limit.</summary>
    private static GoalCheck Against(RunReport r, string issue, string goal, string workload, string subject, string[] rivals, double limit)
    {
        double? own = Median(r, workload, subject);
        var best = rivals.Select(p => (Peer: p, Ns: Median(r, workload, p))).Where(x => x.Ns is not null).OrderBy(x => x.Ns).FirstOrDefault();
        if (own is null || best.Ns is null)
            return new GoalCheck(issue, goal, "not measured", null);
        double ratio = own.Value / best.Ns.Value;
        return new GoalCheck(issue, goal, Inv($"{ratio:F2}× {best.Peer} ({own:F1} against {best.Ns:F1} ns)"), ratio <= limit);
    }

    private static double? Median(RunReport r, string workload, string peer) =>
        r.Timings.FirstOrDefault(t => t.Workload.Id == workload && t.Peer == peer)?.Stats.Median;

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
