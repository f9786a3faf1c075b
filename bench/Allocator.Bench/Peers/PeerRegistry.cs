using System;
using System.Collections.Generic;

namespace Allocator.Bench.Peers;

/// <summary>How to find one peer: <paramref name="Id"/> for the command line, <paramref name="Name"/>
/// for reports. Probing loads its library, so it happens only when asked.</summary>
public sealed record PeerDescriptor(string Id, string Name, Func<PeerProbe> Probe);

/// <summary>
/// Every allocator the harness compares, in report order. This list is the one place a new peer
/// joins, backed by a struct implementing <see cref="IPeer{TBlock}"/> (see bench/README.md,
/// "Adding the arena"). The project's arena comes first, twice: called as its sealed type (the
/// subject of the goals) and through the abstract base, which shows what a virtual call costs.
/// </summary>
public static class PeerRegistry
{
    public static IReadOnlyList<PeerDescriptor> All { get; } =
    [
        new("arena", "Allocator", ArenaPeers.Typed),
        new("arena-virtual", "Allocator (virtual)", ArenaPeers.ThroughBase),
        new("arena-generated", "Allocator (generated)", ArenaPeers.Generated),
        new("jemalloc", "jemalloc", NativePeers.Jemalloc),
        new("mimalloc", "mimalloc", NativePeers.Mimalloc),
        new("tcmalloc", "tcmalloc", NativePeers.Tcmalloc),
        new("glibc", "glibc", NativePeers.Glibc),
        new("arraypool", "ArrayPool", ManagedPeers.ArrayPool),
        new("gcarray", "new byte[]", ManagedPeers.GcArray),
    ];

    /// <summary>Finds a peer by id or name, ignoring case; null when unknown.</summary>
    public static PeerDescriptor? Find(string name)
    {
        foreach (var d in All)
            if (string.Equals(d.Id, name, StringComparison.OrdinalIgnoreCase) || string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase))
                return d;
        return null;
    }
}
