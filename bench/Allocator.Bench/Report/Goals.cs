using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Allocator.Bench.Harness;
using Allocator.Bench.Peers;

namespace Allocator.Bench.Report;

/// <summary>One target from the issues, checked against this run. <see cref="Met"/> is null
/// when a figure it needs was not measured.</summary>
public sealed record GoalCheck(string Issue, string Goal, string Measured, bool? Met);

/// <summary>
/// The performance targets that the issues set for the project's allocator, as ratios to the
/// peers of the same run, always like for like: an arena row that frees with <c>Free</c> is
/// compared with the native peers' unsized frees, a <c>FreeSized</c> row with the fastest native
/// path of either kind. The subject is a form of the arena (by default <c>Arena.Create()</c> held
/// as <c>Arena</c>): its <c>Free</c> row and its <c>FreeSized</c> row.
/// </summary>
public static class Goals
{
    private const string FreeSuffix = " Free", SizedSuffix = " FreeSized";

    /// <summary>The issue-16 limits for the Free rows of each form in 64 B and 4 KiB pairs.</summary>
    private static readonly (string Form, double Limit)[] FreeLimits = [("[Arena]", 0.9), ("Arena.Create", 1.1), ("sealed", 1.1)];

    /// <summary>The form of the arena a row belongs to ("Arena.Create" for "Arena.Create FreeSized").</summary>
    public static string FormOf(string rowName) =>
        rowName.EndsWith(SizedSuffix, StringComparison.Ordinal) ? rowName[..^SizedSuffix.Length]
        : rowName.EndsWith(FreeSuffix, StringComparison.Ordinal) ? rowName[..^FreeSuffix.Length]
        : rowName;

    public static IReadOnlyList<GoalCheck> Check(RunReport r, string subject)
    {
        var checks = new List<GoalCheck>();
        string form = FormOf(subject);
        string free = form + FreeSuffix, sized = form + SizedSuffix;
        var native = r.Peers.Where(p => p.Kind == PeerKind.Native).ToArray();
        string[] nativeUnsized = native.Where(p => !p.PassesSize).Select(p => p.Name).ToArray();
        string[] nativeAny = native.Select(p => p.Name).ToArray();
        string[] Family(string prefix, bool anyKind) =>
            native.Where(p => p.Name.StartsWith(prefix, StringComparison.Ordinal) && (anyKind || !p.PassesSize)).Select(p => p.Name).ToArray();

        // Issue 16: every form of the arena, each free against its like.
        foreach (string w in new[] { "pair-64", "pair-4096" })
        {
            string title = r.Workloads.FirstOrDefault(x => x.Id == w)?.Title ?? w;
            foreach ((string f, double limit) in FreeLimits)
            {
                if (r.Peers.Any(p => p.Name == f + FreeSuffix))
                    checks.Add(Against(r, "16", $"{title}, {f} Free at most {limit:F1}× the fastest native unsized free", w, f + FreeSuffix, nativeUnsized, limit));
                if (r.Peers.Any(p => p.Name == f + SizedSuffix))
                    checks.Add(Against(r, "16", $"{title}, {f} FreeSized at most 0.8× the fastest native path", w, f + SizedSuffix, nativeAny, 0.8));
            }
        }
        foreach ((string w, string goal, string family, double limit) in new[]
                 {
                     ("pair-65536", "64 KiB pair", "tcmalloc", 1.0), ("live-set", "live set", "tcmalloc", 1.0),
                     ("cross-thread", "cross-thread", "jemalloc", 0.8),
                 })
        {
            checks.Add(Against(r, "16", $"{goal}, {free} at most {limit:F1}× {family}'s unsized free", w, free, Family(family, false), limit));
            checks.Add(Against(r, "16", $"{goal}, {sized} at most {limit:F1}× {family}'s faster free", w, sized, Family(family, true), limit));
        }

        // Issues 4 and 7, read like for like: the subject's Free against the peers' unsized frees.
        double? own64 = Median(r, "pair-64", free);
        checks.Add(new("4", $"64 B pair under 5 ns ({free})", own64 is { } v ? Inv($"{v:F1} ns") : "not measured", own64 is null ? null : own64 < 5));

        var sizes = r.Workloads.Where(w => w.Id.StartsWith("pair-", StringComparison.Ordinal)).ToArray();
        var glibcRatios = sizes.Select(w => (w.Title, Ratio: Median(r, w.Id, free) / Median(r, w.Id, "glibc free"))).ToArray();
        string glibcGoal = $"pairs faster than glibc free at every size ({free})";
        if (glibcRatios.Length > 0 && glibcRatios.All(x => x.Ratio is not null))
        {
            var worst = glibcRatios.MaxBy(x => x.Ratio!.Value);
            checks.Add(new("4", glibcGoal, Inv($"worst {worst.Ratio:F2}× glibc ({worst.Title})"), worst.Ratio < 1));
        }
        else
        {
            checks.Add(new("4", glibcGoal, "not measured", null));
        }

        checks.Add(Against(r, "7", $"64 B pair, {free} at most 0.6× jemalloc free", "pair-64", free, Family("jemalloc", false), 0.6));
        checks.Add(Against(r, "7", $"64 KiB pair, {free} at most 1.0× the fastest native unsized free", "pair-65536", free, nativeUnsized, 1.0));
        checks.Add(Against(r, "7", $"1 MiB pair, {free} at most 1.0× the fastest native unsized free", "pair-1048576", free, nativeUnsized, 1.0));

        var own = r.Memory.FirstOrDefault(m => m.Peer == free)?.Result;
        var je = r.Memory.FirstOrDefault(m => m.Peer == "jemalloc free")?.Result;
        if (own is not null)
        {
            double limitKiB = own.BaselineKiB + 1.1 * own.LiveBytes / 1024.0;
            checks.Add(new("7", $"RSS after purge at most baseline + 1.1× live bytes ({free})",
                Inv($"{own.AfterPurgeKiB / 1024.0:F1} MiB against {limitKiB / 1024.0:F1} ({(own.AfterPurgeKiB - own.BaselineKiB) * 1024.0 / own.LiveBytes:F2}× live)"),
                own.AfterPurgeKiB <= limitKiB));
        }
        else
        {
            checks.Add(new("7", $"RSS after purge at most baseline + 1.1× live bytes ({free})", "not measured", null));
        }
        checks.Add(own is not null && je is not null
            ? new("7", $"peak RSS at most jemalloc's ({free} against jemalloc free)", Inv($"{own.PeakKiB / 1024.0:F1} MiB against {je.PeakKiB / 1024.0:F1}"), own.PeakKiB <= je.PeakKiB)
            : new("7", $"peak RSS at most jemalloc's ({free} against jemalloc free)", "not measured", null));
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
