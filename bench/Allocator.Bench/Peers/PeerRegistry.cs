using System;
using System.Collections.Generic;

namespace Allocator.Bench.Peers;

/// <summary>How to find one peer: <paramref name="Id"/> for the command line, <paramref name="Name"/>
/// for reports. Probing loads its library, so it happens only when asked.</summary>
public sealed record PeerDescriptor(string Id, string Name, Func<PeerProbe> Probe);

/// <summary>
/// Every allocator the harness compares, in report order, each through both of its free entry
/// points where it has two: the unsized free (<c>free</c>, <c>mi_free</c>, <c>tc_free</c>,
/// <c>Arena.Free</c>) and the sized one (<c>sdallocx</c>, <c>mi_free_size</c>, <c>tc_free_sized</c>,
/// <c>Arena.FreeSized</c>). The project's arena comes first, in the three forms a user meets:
/// <c>Arena.Create()</c> held as the abstract <c>Arena</c> (the subject of the goals), the sealed
/// <c>Arena&lt;RuntimeArenaPolicy&gt;</c>, and a generated <c>[Arena]</c> facade. This list is the one
/// place a new peer joins (bench/README.md, "Adding a peer").
/// </summary>
public static class PeerRegistry
{
    public static IReadOnlyList<PeerDescriptor> All { get; } =
    [
        new("arena", "Arena.Create Free", ArenaPeers.Created<UnsizedFree>),
        new("arena-sized", "Arena.Create FreeSized", ArenaPeers.Created<SizedFree>),
        new("arena-sealed", "sealed Free", ArenaPeers.Sealed<UnsizedFree>),
        new("arena-sealed-sized", "sealed FreeSized", ArenaPeers.Sealed<SizedFree>),
        new("arena-generated", "[Arena] Free", ArenaPeers.Generated<UnsizedFree>),
        new("arena-generated-sized", "[Arena] FreeSized", ArenaPeers.Generated<SizedFree>),
        new("arena-guarded", "guarded 1/64 Free", () => ArenaPeers.Guarded(every: false)),
        new("arena-guarded-every", "guarded every Free", () => ArenaPeers.Guarded(every: true)),

        new("arena-huge-eager", "sealed HugePages=Eager", () => ArenaPeers.HugePages(HugePageMode.Eager)),
        new("arena-huge-lazy", "sealed HugePages=Lazy", () => ArenaPeers.HugePages(HugePageMode.Lazy)),

        new("arena-sealed-prof", "sealed Free, profiled", ArenaPeers.SealedProfiled<UnsizedFree>),
        new("arena-generated-prof", "[Arena] Free, profiled", ArenaPeers.GeneratedProfiled<UnsizedFree>),
        new("jemalloc", "jemalloc free", NativePeers.Jemalloc<UnsizedFree>),
        new("jemalloc-sized", "jemalloc sdallocx", NativePeers.Jemalloc<SizedFree>),
        new("jemalloc-hpa", "jemalloc hpa:true", NativePeers.JemallocHpa),
        new("mimalloc", "mimalloc mi_free", NativePeers.Mimalloc<UnsizedFree>),
        new("mimalloc-sized", "mimalloc mi_free_size", NativePeers.Mimalloc<SizedFree>),
        new("tcmalloc", "tcmalloc tc_free", NativePeers.Tcmalloc<UnsizedFree>),
        new("tcmalloc-sized", "tcmalloc tc_free_sized", NativePeers.Tcmalloc<SizedFree>),
        new("glibc", "glibc free", NativePeers.Glibc),
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
