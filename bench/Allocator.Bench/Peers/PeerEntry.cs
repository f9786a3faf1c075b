using System;
using Allocator.Bench.Harness;
using Allocator.Bench.Workloads;

namespace Allocator.Bench.Peers;

/// <summary>
/// A loaded peer as the runner sees it: its name, what exactly was loaded, its purge, and the
/// workloads instantiated for its struct type. Only the hot loops are generic; this class is the
/// one virtual hop per timed run.
/// </summary>
public abstract class PeerEntry(string name, PeerKind kind, bool passesSize, string description, Action purge)
{
    /// <summary>The short name used in tables and charts.</summary>
    public string Name { get; } = name;

    /// <summary>Whether this is a native peer, a managed one, or the project's own allocator.</summary>
    public PeerKind Kind { get; } = kind;

    /// <summary>Whether this row frees through the allocator's sized entry point (sdallocx,
    /// FreeSized, ...) rather than its plain free: the goals compare like with like.</summary>
    public bool PassesSize { get; } = passesSize;

    /// <summary>Library version and entry points, so a reader knows what was measured.</summary>
    public string Description { get; } = description;

    /// <summary>Returns free memory to the operating system as far as the allocator can.</summary>
    public void Purge() => purge();

    public abstract ITimedRun CreatePairs(nuint size, int pairs);

    public abstract ITimedRun CreateLiveSet(LiveSetPlan plan);

    public abstract ITimedRun CreateCrossThread(CrossThreadPlan plan);

    public abstract MemoryRunResult RunMemory(MemoryPlan plan);

    public abstract HugePageRunResult RunHugePages(long bytes, int reads, int waitMs);

    /// <summary>Runs one ported mimalloc-bench workload once; its wall time in seconds.</summary>
    public abstract double RunSuite(string workload, Suite.SuiteScale scale);
}

/// <summary>The workloads compiled for one peer struct.</summary>
public sealed class PeerEntry<TPeer, TBlock>(string name, PeerKind kind, bool passesSize, string description, TPeer peer, Action purge)
    : PeerEntry(name, kind, passesSize, description, purge)
    where TPeer : struct, IPeer<TBlock>
{
    public override ITimedRun CreatePairs(nuint size, int pairs) => new PairsRun<TPeer, TBlock>(peer, size, pairs);

    public override ITimedRun CreateLiveSet(LiveSetPlan plan) => new LiveSetRun<TPeer, TBlock>(peer, plan);

    public override ITimedRun CreateCrossThread(CrossThreadPlan plan) => new CrossThreadRun<TPeer, TBlock>(peer, plan);

    public override MemoryRunResult RunMemory(MemoryPlan plan) => MemoryRun.Run<TPeer, TBlock>(peer, Purge, plan);

    public override HugePageRunResult RunHugePages(long bytes, int reads, int waitMs) => HugePageRun.Run<TPeer, TBlock>(peer, bytes, reads, waitMs);

    public override double RunSuite(string workload, Suite.SuiteScale scale) => Suite.SuiteCatalog.Run<TPeer, TBlock>(workload, peer, scale);
}

/// <summary>The goals compare the project's allocator with native peers in particular.</summary>
public enum PeerKind
{
    /// <summary>A C allocator (jemalloc, mimalloc, tcmalloc, glibc).</summary>
    Native,

    /// <summary>Memory from the .NET runtime (ArrayPool, new byte[]).</summary>
    Managed,

    /// <summary>The project's own arena: the subject of the goals.</summary>
    Project,
}

/// <summary>Either a usable peer or the reason it was skipped; never a stand-in.</summary>
public readonly record struct PeerProbe(PeerEntry? Entry, string? SkipReason)
{
    public static PeerProbe Of(PeerEntry entry) => new(entry, null);

    public static PeerProbe Skip(string reason) => new(null, reason);
}
