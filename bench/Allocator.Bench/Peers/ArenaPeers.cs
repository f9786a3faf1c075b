using System.Runtime.CompilerServices;
using Allocator;

namespace Allocator.Bench.Peers;

/// <summary>
/// The project's arena held as its sealed type, <c>Arena&lt;RuntimeArenaPolicy&gt;</c>: the JIT knows
/// the exact class, so <c>Allocate</c> and <c>FreeSized</c> are direct calls it may inline, as
/// they would be for a caller that keeps the arena in a typed field.
/// </summary>
public readonly unsafe struct ArenaPeer(Arena<RuntimeArenaPolicy> arena) : IPeer<nint>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public nint Allocate(nuint size) => (nint)arena.Allocate(size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(nint block, nuint size) => arena.FreeSized((void*)block, size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(nint block, nuint offset, byte value) => ((byte*)block)[offset] = value;
}

/// <summary>
/// The same arena reached through the abstract <see cref="Arena"/> base, as <c>Arena.Create()</c>
/// hands it out: every call is a virtual call, which is what this row costs over
/// <see cref="ArenaPeer"/>.
/// </summary>
/// <remarks>
/// Deliberately a copy of <see cref="ArenaPeer"/> with another field type. One struct generic over
/// the arena type would not do: for a reference-type argument the JIT shares one body of code
/// between instantiations, and that body calls through the vtable, so both rows would be virtual.
/// </remarks>
public readonly unsafe struct ArenaBasePeer(Arena arena) : IPeer<nint>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public nint Allocate(nuint size) => (nint)arena.Allocate(size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(nint block, nuint size) => arena.FreeSized((void*)block, size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(nint block, nuint offset, byte value) => ((byte*)block)[offset] = value;
}

/// <summary>
/// The attribute-declared arena (<see cref="SpecializedArena"/>, same settings as the defaults):
/// its facade forwards to <c>Arena&lt;SpecializedArena.Policy&gt;</c>, compiled for that policy
/// with the knobs as constants and the size lookup read from the generated table.
/// </summary>
public readonly unsafe struct GeneratedArenaPeer(SpecializedArena arena) : IPeer<nint>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public nint Allocate(nuint size) => (nint)arena.Allocate(size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(nint block, nuint size) => arena.FreeSized((void*)block, size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(nint block, nuint offset, byte value) => ((byte*)block)[offset] = value;
}

/// <summary>Creates the arena peers. Each probe makes its own arena with the defaults, so the two
/// rows never share caches or slabs.</summary>
internal static class ArenaPeers
{
    private const string Defaults = "Arena.Create() defaults; Allocate + FreeSized";

    public static PeerProbe Typed()
    {
        // Arena.Create() returns this type today; a cast that fails would mean the API changed.
        if (Arena.Create() is not Arena<RuntimeArenaPolicy> arena)
            return PeerProbe.Skip("Arena.Create() no longer returns Arena<RuntimeArenaPolicy>");
        return PeerProbe.Of(new PeerEntry<ArenaPeer, nint>(
            "Allocator", PeerKind.Project, $"{Defaults}, called as the sealed Arena<RuntimeArenaPolicy>",
            new ArenaPeer(arena), arena.Purge));
    }

    public static PeerProbe Generated()
    {
        var arena = new SpecializedArena();
        return PeerProbe.Of(new PeerEntry<GeneratedArenaPeer, nint>(
            "Allocator (generated)", PeerKind.Project, "an [Arena] declaration with the defaults; the generated facade over Arena<Policy>",
            new GeneratedArenaPeer(arena), arena.Purge));
    }

    public static PeerProbe ThroughBase()
    {
        Arena arena = Arena.Create();
        return PeerProbe.Of(new PeerEntry<ArenaBasePeer, nint>(
            "Allocator (virtual)", PeerKind.Project, $"{Defaults}, called through the abstract Arena (virtual calls)",
            new ArenaBasePeer(arena), arena.Purge));
    }
}
