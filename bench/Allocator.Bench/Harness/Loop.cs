using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using Allocator.Bench.Peers;

namespace Allocator.Bench.Harness;

/// <summary>
/// Runs one workload for one peer, over and over, for a given time and reports nothing but the
/// mean: a steady target for a sampling profiler (perf record) or a disassembly dump. The
/// workload and its plan are the ones the report measures. With a bound on the operations it
/// stops after that many runs' worth instead, so that two counts under an instruction counter
/// (callgrind) differ by a known number of operations.
/// </summary>
public static class Loop
{
    public static int Run(string peerId, string workloadId, double seconds, bool quick, long maxOperations = long.MaxValue)
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
        if (maxOperations == long.MaxValue)
        {
            Stats.WarmUp(run, settings);
        }
        else
        {
            // A fixed number of warm-up runs: under an instruction counter time means nothing.
            for (int i = 0; i < settings.MinWarmUpRuns; i++)
                run.Run();
        }
        long ticks = 0, operations = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds && operations < maxOperations)
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
