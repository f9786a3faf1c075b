using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Allocator.Bench.Harness;
using Allocator.Bench.Peers;
using Allocator.Bench.Workloads;

namespace Allocator.Bench;

/// <summary>
/// Issue 14's measurements: for the arena with hugepages Off, Eager and Lazy and for jemalloc with
/// and without its hugepage allocator, the memory run (allocate time, RSS after free and purge) and
/// the hugepage run (minor faults per GiB written, random reads over a 1 GiB live set of 64 B..4 KiB
/// blocks, AnonHugePages after the hugify delay), each peer and run in its own process.
/// </summary>
public static class HugePageReport
{
    private const string Prefix = "HUGEPAGES\t";

    // Off is the sealed arena, the form the hugepage rows are (ArenaPeers.HugePages).
    private static readonly (string Id, bool Wait)[] s_peers =
    [
        ("arena-sealed", false), ("arena-huge-eager", false), ("arena-huge-lazy", true), ("jemalloc", false), ("jemalloc-hpa", true),
    ];

    // Both lazy policies hugify after 10 s by default; the wait leaves two more for the deadline's pass.
    private const int WaitMs = 12_000;

    /// <summary>Sets MALLOC_CONF for the child of a peer that needs it (jemalloc reads it only at start).</summary>
    public static void SetMallocConf(ProcessStartInfo start, string peerId)
    {
        if (peerId == "jemalloc-hpa") start.Environment["MALLOC_CONF"] = "hpa:true";
    }

    public static int Run(bool quick, string outDir, string commandLine)
    {
        DateTime started = DateTime.UtcNow;
        Machine machine = Machine.Describe();
        long memoryBytes = quick ? RunSettings.Quick.MemoryBytes : RunSettings.Full.MemoryBytes;
        int reads = quick ? 20_000_000 : 100_000_000;
        const long LiveBytes = 1L << 30;
        Console.WriteLine($"{machine.Cpu}, {machine.LogicalCores} logical cores, load {machine.LoadAverage}");

        var rows = new List<(string Name, MemoryOutcome Memory, HugePageRunResult? Huge, string? Failure)>();
        foreach ((string id, bool wait) in s_peers)
        {
            PeerDescriptor d = PeerRegistry.Find(id)!;
            MemoryOutcome memory = Runner.RunMemoryChild(d, memoryBytes);
            (HugePageRunResult? huge, string? failure) = RunChild(d, LiveBytes, reads, wait ? WaitMs : 0);
            rows.Add((d.Name, memory, huge, failure ?? memory.Failure));
            Console.WriteLine(huge is { } h
                ? string.Create(CultureInfo.InvariantCulture, $"  {d.Name,-24} faults/GiB {FaultsPerGiB(h),9:F0}  read {h.ReadNs,6:F1} ns  AnonHuge {h.AnonHugeKiBAfterWrite / 1024,5} -> {h.AnonHugeKiBAfterWait / 1024,5} MiB  memory-run allocate {memory.Result?.AllocateMs,7:F0} ms, after purge {memory.Result?.AfterPurgeKiB / 1024.0,6:F1} MiB")
                : $"  {d.Name,-24} FAILED: {failure ?? memory.Failure}");
        }

        Directory.CreateDirectory(outDir);
        string path = Path.Combine(outDir, quick ? "hugepages-quick.md" : "hugepages.md");
        File.WriteAllText(path, Markdown(rows, machine, started, commandLine, memoryBytes, LiveBytes, reads));
        Console.WriteLine($"Wrote {path}");
        return 0;
    }

    public static int Child(string peerId, long bytes, int reads, int waitMs)
    {
        PeerProbe probe = PeerRegistry.Find(peerId)?.Probe() ?? PeerProbe.Skip($"unknown peer '{peerId}'");
        if (probe.Entry is null)
        {
            Console.WriteLine("SKIP\t" + probe.SkipReason);
            return 2;
        }

        HugePageRunResult r = probe.Entry.RunHugePages(bytes, reads, waitMs);
        Console.WriteLine(Prefix + string.Join('\t', new object[]
        {
            r.WrittenBytes, r.Blocks, r.AllocateMs, r.MinorFaults, r.AnonHugeKiBAfterWrite, r.AnonHugeKiBAfterWait, r.WaitedMs, r.ReadNs, r.RssKiB,
        }.Select(o => Convert.ToString(o, CultureInfo.InvariantCulture))));
        return 0;
    }

    private static (HugePageRunResult?, string?) RunChild(PeerDescriptor peer, long bytes, int reads, int waitMs)
    {
        ProcessStartInfo start = Tunables.Self(["hugepage-child", "--peer", peer.Id, "--bytes", bytes.ToString(CultureInfo.InvariantCulture),
            "--reads", reads.ToString(CultureInfo.InvariantCulture), "--wait-ms", waitMs.ToString(CultureInfo.InvariantCulture)]);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        SetMallocConf(start, peer.Id);
        using Process child = Process.Start(start) ?? throw new InvalidOperationException("Could not start the hugepage child.");
        var stderr = child.StandardError.ReadToEndAsync();
        string stdout = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        foreach (string line in stdout.Split('\n'))
        {
            if (line.StartsWith("SKIP\t", StringComparison.Ordinal)) return (null, line[5..].Trim());
            if (!line.StartsWith(Prefix, StringComparison.Ordinal)) continue;
            string[] f = line[Prefix.Length..].Trim().Split('\t');
            long L(int i) => long.Parse(f[i], CultureInfo.InvariantCulture);
            double D(int i) => double.Parse(f[i], CultureInfo.InvariantCulture);
            return (new HugePageRunResult(L(0), (int)L(1), D(2), L(3), L(4), L(5), L(6), D(7), L(8)), null);
        }

        string tail = stderr.Result.Trim();
        return (null, $"child exited with {child.ExitCode}: {(tail.Length > 300 ? tail[^300..] : tail)}");
    }

    private static double FaultsPerGiB(HugePageRunResult r) => r.MinorFaults * (double)(1L << 30) / r.WrittenBytes;

    private static string Markdown(List<(string Name, MemoryOutcome Memory, HugePageRunResult? Huge, string? Failure)> rows, Machine machine,
        DateTime started, string commandLine, long memoryBytes, long liveBytes, int reads)
    {
        var b = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        b.AppendLine("# Hugepage measurements (issue 14)").AppendLine();
        b.AppendLine(c, $"`dotnet run -c Release --project bench/Allocator.Bench -- {commandLine}`, started {started:yyyy-MM-dd HH:mm} UTC on {machine.Cpu} ({machine.LogicalCores} logical cores), load average {machine.LoadAverage} at the start and {Machine.LoadAverageNow()} at the end.").AppendLine();
        b.AppendLine(c, $"Memory run: {memoryBytes >> 20} MiB in 16 B..64 KiB blocks, every page written, 90% freed, then purged. Hugepage run: a {liveBytes >> 30} GiB live set of 64 B..4 KiB blocks, every byte written (faults counted in that phase, from /proc/self/stat), then {reads / 1_000_000}M random one-byte reads; the lazy rows wait {WaitMs / 1000} s (past the 10 s hugify delay) before reading AnonHugePages again and before the reads. Each peer and each run is its own process.").AppendLine();
        b.AppendLine("| peer | memory-run allocate (ms) | RSS after free + purge (MiB) | minor faults per GiB written | AnonHugePages after writing (MiB) | after the wait (MiB) | random read (ns) | RSS of the live set (MiB) |");
        b.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var row in rows)
        {
            MemoryRunResult? m = row.Memory.Result;
            HugePageRunResult? h = row.Huge;
            if (m is null && h is null)
            {
                b.AppendLine(c, $"| {row.Name} | skipped: {row.Failure} | | | | | | |");
                continue;
            }

            b.AppendLine(c, $"| {row.Name} | {m?.AllocateMs:F0} | {m?.AfterPurgeKiB / 1024.0:F1} | {(h is null ? "" : FaultsPerGiB(h).ToString("F0", c))} | {h?.AnonHugeKiBAfterWrite / 1024} | {(h is { WaitedMs: > 0 } ? (h.AnonHugeKiBAfterWait / 1024).ToString(c) : "")} | {h?.ReadNs:F1} | {h?.RssKiB / 1024} |");
        }

        return b.ToString();
    }
}
