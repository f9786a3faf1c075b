using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using Allocator.Bench.Peers;

namespace Allocator.Bench.Harness;

/// <summary>
/// Runs one workload for one peer, over and over, for a given time and reports nothing but the
/// mean: a steady target for a sampling profiler (perf record) or a disassembly dump. The
/// workload and its plan are the ones the report measures.
/// </summary>
public static class Loop
{
    public static int Run(string peerId, string workloadId, double seconds, bool quick)
    {
        PeerDescriptor d = PeerRegistry.Find(peerId) ?? throw new ArgumentException($"Unknown peer '{peerId}'.");
        PeerProbe probe = d.Probe();
        if (probe.Entry is not { } entry)
        {
            Console.Error.WriteLine($"{d.Name} skipped: {probe.SkipReason}");
            return 2;
        }

        RunSettings settings = quick ? RunSettings.Quick : RunSettings.Full;
        Workload w = WorkloadCatalog.Timed(settings).FirstOrDefault(x => x.Id == workloadId)
            ?? throw new ArgumentException($"Unknown workload '{workloadId}'. Known: {string.Join(", ", WorkloadCatalog.Timed(settings).Select(x => x.Id))}.");

        using ITimedRun run = w.Create(entry);
        Stats.WarmUp(run, settings);
        long ticks = 0, operations = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            ticks += run.Run();
            operations += run.Operations;
        }

        double ns = ticks * (1e9 / Stopwatch.Frequency) / operations;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{w.Title} / {entry.Name}: {ns:F1} ns per operation over {operations:N0} operations, pid {Environment.ProcessId}"));
        return 0;
    }
}
