using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime;
using System.Text;
using Allocator.Bench.Harness;
using SqliteOnArena;
using SQLitePCL;

namespace Allocator.Bench.Sqlite;

/// <summary>
/// Issue 17's SQLite measurement: samples/SqliteOnArena's database job with SQLite's allocator
/// callbacks (<c>sqlite3_config(SQLITE_CONFIG_MALLOC)</c>) over the sample's arena and over C
/// allocators through the same kind of layer, each run a fresh child process, the peers taking
/// turns round by round. Reports the job's CPU time (user + system, all threads), its wall time
/// and the process's peak RSS (VmHWM), as medians and as ratios to glibc's, and the JIT time
/// within the job, which shows how much of a gap is compiling rather than allocating.
/// </summary>
public static class SqliteBench
{
    private const string Prefix = "SQLITE\t";
    private const string SkipPrefix = "SKIP\t";

    /// <summary>Every row the command knows, in the order they run within a round.</summary>
    public static readonly string[] AllPeers = ["arena", "glibc", "jemalloc", "mimalloc", "tcmalloc"];

    /// <summary>The row the ratios are taken against.</summary>
    private const string Baseline = "glibc";

    /// <summary>Issue 17's goals for the arena row, against <see cref="Baseline"/>.</summary>
    private const double CpuGoal = 1.0, PeakRssGoal = 1.05;

    /// <summary>One child's figures.</summary>
    private sealed record Sample(ulong Checksum, string Integrity, double CpuSeconds, double UserSeconds, double SystemSeconds,
        double WallSeconds, long PeakKiB, long RssBeforeKiB, long SqliteHighwater, double JitSeconds, long JitMethods, string Description);

    /// <summary>Runs <paramref name="rounds"/> rounds of every peer in <paramref name="peers"/> and writes sqlite.md.</summary>
    public static int Run(IReadOnlyList<string> peers, int rows, int rounds, string outDir, string commandLine)
    {
        foreach (string p in peers)
        {
            if (p != "arena" && !LibraryMemory.Knows(p))
                throw new ArgumentException($"Unknown sqlite peer '{p}'. Known: {string.Join(", ", AllPeers)}.");
        }
        if (!peers.Contains(Baseline))
            throw new ArgumentException($"The sqlite command needs the {Baseline} row: every figure is a ratio to it.");

        DateTime started = DateTime.UtcNow;
        Machine machine = Machine.Describe();
        Console.WriteLine($"{machine.Cpu}, {machine.LogicalCores} logical cores, load {machine.LoadAverage}; {rows:N0} rows, {rounds} rounds");
        var samples = peers.ToDictionary(p => p, _ => new List<Sample>());
        var skipped = new Dictionary<string, string>();
        var failures = new List<string>();
        for (int round = 1; round <= rounds; round++)
        {
            foreach (string peer in peers)
            {
                if (skipped.ContainsKey(peer))
                    continue;
                (Sample? s, string? skip, string? failure) = RunChild(peer, rows);
                if (skip is not null)
                {
                    skipped[peer] = skip;
                    Console.WriteLine($"  {peer,-9} SKIPPED: {skip}");
                    continue;
                }
                if (s is null)
                {
                    failures.Add($"{peer}, round {round}: {failure}");
                    Console.WriteLine($"  {peer,-9} round {round} FAILED: {failure}");
                    continue;
                }
                samples[peer].Add(s);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  round {round} {peer,-9} cpu {s.CpuSeconds,6:F2} s  wall {s.WallSeconds,6:F2} s  peak {s.PeakKiB / 1024.0,7:F1} MiB  jit {s.JitSeconds,5:F2} s  checksum {s.Checksum:x16}"));
            }
        }

        string loadAtEnd = Machine.LoadAverageNow();
        Directory.CreateDirectory(outDir);
        string path = Path.Combine(outDir, "sqlite.md");
        File.WriteAllText(path, Markdown(peers, samples, skipped, failures, machine, started, loadAtEnd, rows, rounds, commandLine));
        Console.WriteLine($"Wrote {path}");
        bool agree = samples.Values.SelectMany(l => l).Select(s => s.Checksum).Distinct().Count() <= 1;
        return failures.Count == 0 && agree ? 0 : 1;
    }

    /// <summary>One run of the job in this process (the child of <see cref="Run"/>).</summary>
    public static int Child(string peer, int rows)
    {
        MemMethods methods;
        string description;
        if (peer == "arena")
        {
            methods = ArenaMemory.Methods;
            description = "SqliteArena.Shared (samples/SqliteOnArena's [Arena]): its Native entry points, xRoundup its size classes";
        }
        else if (LibraryMemory.TryBind(peer, out description, out string reason))
        {
            methods = LibraryMemory.Methods;
        }
        else
        {
            Console.WriteLine(SkipPrefix + reason);
            return 2;
        }

        SqliteMalloc.Install(methods);
        Batteries_V2.Init();
        long rssBefore = ProcStatus.RssKiB();
        (TimeSpan user0, TimeSpan sys0) = ResourceUsage.Self();
        TimeSpan jit0 = JitInfo.GetCompilationTime();
        long jitMethods0 = JitInfo.GetCompiledMethodCount();
        long start = Stopwatch.GetTimestamp();
        JobResult result = DatabaseJob.Run(rows);
        TimeSpan wall = Stopwatch.GetElapsedTime(start);
        (TimeSpan user1, TimeSpan sys1) = ResourceUsage.Self();
        TimeSpan jit = JitInfo.GetCompilationTime() - jit0;
        long jitMethods = JitInfo.GetCompiledMethodCount() - jitMethods0;
        long peak = ProcStatus.HighWaterKiB();
        long highwater = raw.sqlite3_memory_highwater(0);
        int rc = raw.sqlite3_shutdown();
        if (rc != raw.SQLITE_OK)
            throw new InvalidOperationException($"sqlite3_shutdown returned {rc}");
        if (peer == "arena")
            SqliteArena.Shared.Core.Validate();

        Console.WriteLine(Prefix + string.Join('\t', new object[]
        {
            result.Checksum.ToString("x16", CultureInfo.InvariantCulture), result.IntegrityCheck,
            (user1 - user0).TotalSeconds, (sys1 - sys0).TotalSeconds, wall.TotalSeconds, peak, rssBefore, highwater, jit.TotalSeconds, jitMethods, description,
        }.Select(o => Convert.ToString(o, CultureInfo.InvariantCulture))));
        return 0;
    }

    private static (Sample? Sample, string? Skip, string? Failure) RunChild(string peer, int rows)
    {
        ProcessStartInfo start = Tunables.Self(["sqlite-child", "--peer", peer, "--rows", rows.ToString(CultureInfo.InvariantCulture)]);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using Process child = Process.Start(start) ?? throw new InvalidOperationException("Could not start the sqlite child.");
        var stderr = child.StandardError.ReadToEndAsync();
        string stdout = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        foreach (string line in stdout.Split('\n'))
        {
            if (line.StartsWith(SkipPrefix, StringComparison.Ordinal))
                return (null, line[SkipPrefix.Length..].Trim(), null);
            if (!line.StartsWith(Prefix, StringComparison.Ordinal))
                continue;
            string[] f = line[Prefix.Length..].TrimEnd('\r').Split('\t');
            double user = Parse(f[2]), sys = Parse(f[3]);
            return (new Sample(ulong.Parse(f[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture), f[1], user + sys, user, sys,
                Parse(f[4]), long.Parse(f[5], CultureInfo.InvariantCulture), long.Parse(f[6], CultureInfo.InvariantCulture),
                long.Parse(f[7], CultureInfo.InvariantCulture), Parse(f[8]), long.Parse(f[9], CultureInfo.InvariantCulture), f[10]), null, null);
        }
        string tail = stderr.Result.Trim();
        return (null, null, $"exit code {child.ExitCode}: {(tail.Length > 400 ? tail[^400..] : tail)}");
    }

    private static double Parse(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    private static double Median(IEnumerable<double> values)
    {
        double[] v = values.OrderBy(x => x).ToArray();
        return v.Length == 0 ? double.NaN : v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    private static string Markdown(IReadOnlyList<string> peers, Dictionary<string, List<Sample>> samples, Dictionary<string, string> skipped,
        List<string> failures, Machine machine, DateTime started, string loadAtEnd, int rows, int rounds, string commandLine)
    {
        var ic = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine("# SQLite on the arena and on C allocators (issue 17)");
        md.AppendLine();
        md.AppendLine(ic, $"`dotnet run -c Release --project bench/Allocator.Bench -- {commandLine}`, started {started:yyyy-MM-dd HH:mm} UTC; ");
        md.AppendLine(ic, $"{machine.Cpu}, {machine.LogicalCores} logical cores, {machine.Memory}, {machine.Os}, {machine.Runtime}; load average {machine.LoadAverage} at the start, {loadAtEnd} at the end.");
        md.AppendLine();
        md.Append(ic, $"samples/SqliteOnArena's `DatabaseJob` over {rows:N0} rows (inserts, two indexes, queries, updates, deletes, a {DatabaseJob.Threads}-thread phase, VACUUM), ");
        md.Append(ic, $"{rounds} rounds, each peer in a fresh process per round, the peers in turn within a round. ");
        md.AppendLine("SQLite gets every block through " +
            "`sqlite3_config(SQLITE_CONFIG_MALLOC)` and `[UnmanagedCallersOnly]` callbacks: the arena's over `SqliteArena.Shared`, the others' " +
            "calling the loaded library's malloc, free, realloc and usable-size functions. CPU is the job's user + system time over all threads " +
            "(getrusage around `DatabaseJob.Run`), wall its elapsed time, peak RSS the process's VmHWM after the job (the .NET runtime included, as " +
            "`/usr/bin/time` would count it); growth is VmHWM minus the RSS just before the job. JIT is the time the runtime spent compiling " +
            "methods during the job and methods JIT'd how many it compiled then (`System.Runtime.JitInfo`, every tier of a method counting). The runtime " +
            "clocks each compile from start to end, so on a quiet machine JIT is CPU time inside the CPU column, and on a loaded one it also holds the time the " +
            "compiling thread waited for a core. Medians; ratios are to glibc's median.");
        md.AppendLine();

        Sample[] baseline = samples[Baseline].ToArray();
        double baseCpu = Median(baseline.Select(s => s.CpuSeconds));
        double baseWall = Median(baseline.Select(s => s.WallSeconds));
        double basePeak = Median(baseline.Select(s => (double)s.PeakKiB));
        double baseGrowth = Median(baseline.Select(s => (double)(s.PeakKiB - s.RssBeforeKiB)));
        md.AppendLine("| peer | runs | CPU (s) | × glibc | wall (s) | × glibc | peak RSS (MiB) | × glibc | growth (MiB) | × glibc | SQLite's highwater (MiB) | JIT (s) | methods JIT'd |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (string peer in peers)
        {
            if (skipped.TryGetValue(peer, out string? why))
            {
                md.AppendLine(ic, $"| {peer} | skipped: {why} | | | | | | | | | | | |");
                continue;
            }
            List<Sample> l = samples[peer];
            if (l.Count == 0)
            {
                md.AppendLine(ic, $"| {peer} | 0 | | | | | | | | | | | |");
                continue;
            }
            double cpu = Median(l.Select(s => s.CpuSeconds)), wall = Median(l.Select(s => s.WallSeconds));
            double peak = Median(l.Select(s => (double)s.PeakKiB)), growth = Median(l.Select(s => (double)(s.PeakKiB - s.RssBeforeKiB)));
            double high = Median(l.Select(s => (double)s.SqliteHighwater));
            double jit = Median(l.Select(s => s.JitSeconds)), jitMethods = Median(l.Select(s => (double)s.JitMethods));
            md.AppendLine(ic, $"| {peer} | {l.Count} | {cpu:F2} | {cpu / baseCpu:F3} | {wall:F2} | {wall / baseWall:F3} | {peak / 1024:F1} | {peak / basePeak:F3} | {growth / 1024:F1} | {growth / baseGrowth:F3} | {high / 1048576:F1} | {jit:F3} | {jitMethods:F0} |");
        }
        md.AppendLine();

        if (samples.TryGetValue("arena", out List<Sample>? arena) && arena.Count > 0 && baseline.Length > 0)
        {
            double cpuRatio = Median(arena.Select(s => s.CpuSeconds)) / baseCpu;
            double peakRatio = Median(arena.Select(s => (double)s.PeakKiB)) / basePeak;
            md.AppendLine("Goals (issue 17, arena against glibc through the same layer):");
            md.AppendLine();
            md.AppendLine(ic, $"- CPU time at most {CpuGoal:F2}×: {cpuRatio:F3}× — {(cpuRatio <= CpuGoal ? "met" : "not met")}");
            md.AppendLine(ic, $"- peak RSS at most {PeakRssGoal:F2}×: {peakRatio:F3}× — {(peakRatio <= PeakRssGoal ? "met" : "not met")}");
            md.AppendLine();
            double extraJit = Median(arena.Select(s => s.JitSeconds)) - Median(baseline.Select(s => s.JitSeconds));
            md.AppendLine(ic, $"The arena's JIT beyond glibc's (medians): {extraJit:F3} s, {extraJit / baseCpu:P1} of glibc's CPU time.");
            md.AppendLine();
        }

        var checksums = samples.Values.SelectMany(l => l).Select(s => s.Checksum).Distinct().ToArray();
        md.AppendLine(checksums.Length == 1
            ? string.Create(ic, $"Every run read back the same data: checksum `{checksums[0]:x16}`, integrity_check `{string.Join(", ", samples.Values.SelectMany(l => l).Select(s => s.Integrity).Distinct())}`.")
            : $"**The checksums differ**: {string.Join(", ", checksums.Select(c => c.ToString("x16", ic)))}.");
        md.AppendLine();
        foreach (string f in failures)
            md.AppendLine(ic, $"- FAILED {f}");
        if (failures.Count > 0)
            md.AppendLine();

        md.AppendLine("Every run (CPU user + system / wall in seconds, peak RSS in MiB, JIT in seconds):");
        md.AppendLine();
        md.AppendLine("| peer | how it is called | runs |");
        md.AppendLine("| --- | --- | --- |");
        foreach (string peer in peers)
        {
            if (samples[peer].Count == 0)
                continue;
            string runs = string.Join("; ", samples[peer].Select(s => string.Create(ic, $"{s.UserSeconds:F2} + {s.SystemSeconds:F2} / {s.WallSeconds:F2}, {s.PeakKiB / 1024.0:F1}, JIT {s.JitSeconds:F2}")));
            md.AppendLine(ic, $"| {peer} | {samples[peer][0].Description} | {runs} |");
        }
        return md.ToString();
    }
}
