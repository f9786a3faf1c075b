using System;
using System.Collections.Generic;

namespace Allocator.Bench.Peers;

/// <summary>How to find one peer: <paramref name="Id"/> for the command line, <paramref name="Name"/>
/// for reports. Probing loads its library, so it happens only when asked.</summary>
public sealed record PeerDescriptor(string Id, string Name, Func<PeerProbe> Probe);

/// <summary>
/// Every allocator the harness compares, in report order. This list is the one place a new peer
/// joins: the project's own arena (issue 4) enters as
/// <c>new("arena", "Allocator", AllocatorArenaPeer.Probe)</c> and the generated arena (issue 7) as a second
/// line, each backed by a struct implementing <see cref="IPeer{TBlock}"/> over <c>nint</c> (see
/// bench/README.md, "Adding the arena"). Until that API exists there is no entry for it here.
/// </summary>
public static class PeerRegistry
{
    public static IReadOnlyList<PeerDescriptor> All { get; } =
    [
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
