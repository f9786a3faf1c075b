using System.Collections.Generic;
using System.Linq;
using Allocator.Bench.Harness;
using Allocator.Bench.Peers;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Allocator.Bench.Bdn;

/// <summary>
/// The allocate+free pairs under BenchmarkDotNet, as a cross-check of the custom runner (which
/// is what produces the report). It reuses the runner's <see cref="PeerEntry.CreatePairs"/> so
/// both measure the same loop.
/// </summary>
public class PairBenchmarks
{
    private const int PairsPerInvoke = 1024;
    private ITimedRun? _run;

    // The peers chosen on the command line; BenchmarkDotNet's --filter sees only method names.
    private static IReadOnlyList<PeerDescriptor> s_peers = PeerRegistry.All;

    /// <summary>Only peers that load here: a skipped one is left out, not stood in for.</summary>
    public static IEnumerable<string> PeerIds() =>
        s_peers.Where(d => d.Probe().Entry is not null).Select(d => d.Id).ToArray();

    [ParamsSource(nameof(PeerIds))]
    public string Peer { get; set; } = "";

    [Params(64, 256, 4096, 65536, 1048576)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        PeerEntry entry = PeerRegistry.Find(Peer)?.Probe().Entry
            ?? throw new System.InvalidOperationException($"Peer '{Peer}' does not load.");
        _run = entry.CreatePairs((nuint)Size, PairsPerInvoke);
    }

    [Benchmark(OperationsPerInvoke = PairsPerInvoke)]
    public long Pairs() => _run!.Run();

    [GlobalCleanup]
    public void Cleanup() => _run?.Dispose();

    /// <summary>Runs in process: the benchmark then inherits GLIBC_TUNABLES that this process was
    /// started with, and no project is generated and built under the repository's warnings-as-errors.</summary>
    public static int Run(string[] args, IReadOnlyList<PeerDescriptor> peers)
    {
        s_peers = peers;
        IConfig config = ManualConfig.Create(DefaultConfig.Instance)
            .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance));
        BenchmarkSwitcher.FromTypes([typeof(PairBenchmarks)]).Run(args, config);
        return 0;
    }
}
