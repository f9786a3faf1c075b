using System.Runtime.CompilerServices;
using Allocator;

namespace Allocator.Bench.Peers;

/// <summary>
/// The project's arena held as its sealed type, <c>Arena&lt;RuntimeArenaPolicy&gt;</c>: the JIT knows
/// the exact class, so <c>Allocate</c>, <c>Free</c> and <c>FreeSized</c> are direct calls it may
/// inline, as they would be for a caller that keeps the arena in a typed field.
/// </summary>
public readonly unsafe struct ArenaPeer<TFree>(Arena<RuntimeArenaPolicy> arena) : IPeer<nint>
    where TFree : struct, IFreeMode
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public nint Allocate(nuint size) => (nint)arena.Allocate(size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(nint block, nuint size)
    {
        if (TFree.PassesSize)
            arena.FreeSized((void*)block, size);
        else
            arena.Free((void*)block);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(nint block, nuint offset, byte value) => ((byte*)block)[offset] = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte Read(nint block, nuint offset) => ((byte*)block)[offset];

    public void Fill(nint block, nuint size, byte value) => Bytes.Fill(block, size, value);
}

/// <summary>
/// The same arena reached through the abstract <see cref="Arena"/> base, as <c>Arena.Create()</c>
/// hands it out: its Allocate and frees are non-virtual members of the base that test for the
/// class Arena.Create() makes and inline its fast path; this row shows what that test costs over
/// <see cref="ArenaPeer{TFree}"/>.
/// </summary>
/// <remarks>
/// Deliberately a copy of <see cref="ArenaPeer{TFree}"/> with another field type. One struct generic
/// over the arena type would not do: for a reference-type argument the JIT shares one body of code
/// between instantiations, and that body binds to Arena's members, so both rows would measure this one.
/// </remarks>
public readonly unsafe struct ArenaBasePeer<TFree>(Arena arena) : IPeer<nint>
    where TFree : struct, IFreeMode
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public nint Allocate(nuint size) => (nint)arena.Allocate(size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(nint block, nuint size)
    {
        if (TFree.PassesSize)
            arena.FreeSized((void*)block, size);
        else
            arena.Free((void*)block);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(nint block, nuint offset, byte value) => ((byte*)block)[offset] = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte Read(nint block, nuint offset) => ((byte*)block)[offset];

    public void Fill(nint block, nuint size, byte value) => Bytes.Fill(block, size, value);
}

/// <summary>
/// The attribute-declared arena (<see cref="SpecializedArena"/>, same settings as the defaults):
/// its facade forwards to <c>Arena&lt;SpecializedArena.Policy&gt;</c>, compiled for that policy
/// with the knobs as constants and the size lookup read from the generated table.
/// </summary>
public readonly unsafe struct GeneratedArenaPeer<TFree>(SpecializedArena arena) : IPeer<nint>
    where TFree : struct, IFreeMode
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public nint Allocate(nuint size) => (nint)arena.Allocate(size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(nint block, nuint size)
    {
        if (TFree.PassesSize)
            arena.FreeSized((void*)block, size);
        else
            arena.Free((void*)block);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(nint block, nuint offset, byte value) => ((byte*)block)[offset] = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte Read(nint block, nuint offset) => ((byte*)block)[offset];

    public void Fill(nint block, nuint size, byte value) => Bytes.Fill(block, size, value);
}

/// <summary>The generated arena with heap profiling on (a copy of <see cref="GeneratedArenaPeer{TFree}"/> for its type).</summary>
public readonly unsafe struct ProfiledArenaPeer<TFree>(ProfiledSpecializedArena arena) : IPeer<nint>
    where TFree : struct, IFreeMode
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public nint Allocate(nuint size) => (nint)arena.Allocate(size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(nint block, nuint size)
    {
        if (TFree.PassesSize)
            arena.FreeSized((void*)block, size);
        else
            arena.Free((void*)block);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(nint block, nuint offset, byte value) => ((byte*)block)[offset] = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte Read(nint block, nuint offset) => ((byte*)block)[offset];

    public void Fill(nint block, nuint size, byte value) => Bytes.Fill(block, size, value);
}

/// <summary>Creates the arena peers: three forms a user meets, each with either free. Each probe
/// makes its own arena with the defaults, so no two rows share caches or slabs.</summary>
internal static class ArenaPeers
{
    private static string Entry<TFree>() where TFree : struct, IFreeMode =>
        TFree.PassesSize ? "Allocate + FreeSized" : "Allocate + Free";

    /// <summary><c>Arena.Create()</c> kept as the abstract <see cref="Arena"/> it returns.</summary>
    public static PeerProbe Created<TFree>() where TFree : struct, IFreeMode
    {
        Arena arena = Arena.Create();
        return PeerProbe.Of(new PeerEntry<ArenaBasePeer<TFree>, nint>(
            TFree.PassesSize ? "Arena.Create FreeSized" : "Arena.Create Free", PeerKind.Project, TFree.PassesSize,
            $"Arena.Create() defaults held as the abstract Arena (class test, no virtual call); {Entry<TFree>()}",
            new ArenaBasePeer<TFree>(arena), arena.Purge));
    }

    /// <summary>The same arena held as the sealed type <c>Arena.Create()</c> returns today.</summary>
    public static PeerProbe Sealed<TFree>() where TFree : struct, IFreeMode
    {
        // A cast that fails would mean the API changed.
        if (Arena.Create() is not Arena<RuntimeArenaPolicy> arena)
            return PeerProbe.Skip("Arena.Create() no longer returns Arena<RuntimeArenaPolicy>");
        return PeerProbe.Of(new PeerEntry<ArenaPeer<TFree>, nint>(
            TFree.PassesSize ? "sealed FreeSized" : "sealed Free", PeerKind.Project, TFree.PassesSize,
            $"Arena.Create() defaults held as the sealed Arena<RuntimeArenaPolicy> (direct calls); {Entry<TFree>()}",
            new ArenaPeer<TFree>(arena), arena.Purge));
    }

    /// <summary>
    /// The sealed arena with guard pages: every 64th slab and large block (the production settings of
    /// docs/configuration.md), or every one of them. Beside <see cref="Sealed{TFree}"/> it shows what guards cost.
    /// </summary>
    public static PeerProbe Guarded(bool every)
    {
        int n = every ? 1 : 64;
        if (Arena.Create(new ArenaOptions { GuardSmallEvery = n, GuardLargeEvery = n }) is not Arena<RuntimeArenaPolicy> arena)
            return PeerProbe.Skip("Arena.Create() no longer returns Arena<RuntimeArenaPolicy>");
        return PeerProbe.Of(new PeerEntry<ArenaPeer<UnsizedFree>, nint>(
            every ? "guarded every Free" : "guarded 1/64 Free", PeerKind.Project, false,
            $"the sealed arena with guard pages on {(every ? "every" : "every 64th")} slab and large block; Allocate + Free",
            new ArenaPeer<UnsizedFree>(arena), arena.Purge));
    }

    /// <summary>The sealed arena with the hugepage allocator on in <paramref name="mode"/>.</summary>
    public static PeerProbe HugePages(HugePageMode mode)
    {
        var arena = new Arena<RuntimeArenaPolicy>(new ArenaOptions { HugePages = mode });
        // The public way to tell: a small block comes from a pageslab only when the hugepage allocator runs.
        bool huge;
        unsafe
        {
            void* probe = arena.Allocate(64);
            huge = arena.GetStats().Pages.Pageslabs != 0;
            arena.Free(probe);
        }
        if (!huge)
        {
            arena.Dispose();
            return PeerProbe.Skip("the hugepage allocator needs Linux and the default hooks");
        }

        return PeerProbe.Of(new PeerEntry<ArenaPeer<UnsizedFree>, nint>(
            $"sealed HugePages={mode}", PeerKind.Project, false,
            $"Arena<RuntimeArenaPolicy> with HugePages = {mode} (extents up to 64 KiB from 2 MiB pageslabs); Allocate + Free",
            new ArenaPeer<UnsizedFree>(arena), arena.Purge));
    }

    /// <summary>The sealed arena with heap profiling at jemalloc's default interval (2^19 bytes): the cost of leaving it on.</summary>
    public static PeerProbe SealedProfiled<TFree>() where TFree : struct, IFreeMode
    {
        if (Arena.Create(new ArenaOptions { ProfileSampleBytes = 1 << 19 }) is not Arena<RuntimeArenaPolicy> arena)
            return PeerProbe.Skip("Arena.Create() no longer returns Arena<RuntimeArenaPolicy>");
        return PeerProbe.Of(new PeerEntry<ArenaPeer<TFree>, nint>(
            TFree.PassesSize ? "sealed FreeSized, profiled" : "sealed Free, profiled", PeerKind.Project, TFree.PassesSize,
            $"the sealed arena with ProfileSampleBytes = 2^19; {Entry<TFree>()}",
            new ArenaPeer<TFree>(arena), arena.Purge));
    }

    /// <summary>An <c>[Arena(ProfileSampleBytes = 1 &lt;&lt; 19)]</c> declaration, otherwise the defaults.</summary>
    public static PeerProbe GeneratedProfiled<TFree>() where TFree : struct, IFreeMode
    {
        var arena = new ProfiledSpecializedArena();
        return PeerProbe.Of(new PeerEntry<ProfiledArenaPeer<TFree>, nint>(
            TFree.PassesSize ? "[Arena] FreeSized, profiled" : "[Arena] Free, profiled", PeerKind.Project, TFree.PassesSize,
            $"an [Arena] declaration with ProfileSampleBytes = 2^19, through the generated facade; {Entry<TFree>()}",
            new ProfiledArenaPeer<TFree>(arena), arena.Purge));
    }

    /// <summary>An <c>[Arena]</c> declaration with the defaults, through its generated facade.</summary>
    public static PeerProbe Generated<TFree>() where TFree : struct, IFreeMode
    {
        var arena = new SpecializedArena();
        return PeerProbe.Of(new PeerEntry<GeneratedArenaPeer<TFree>, nint>(
            TFree.PassesSize ? "[Arena] FreeSized" : "[Arena] Free", PeerKind.Project, TFree.PassesSize,
            $"an [Arena] declaration with the defaults, through the generated facade over Arena<Policy>; {Entry<TFree>()}",
            new GeneratedArenaPeer<TFree>(arena), arena.Purge));
    }
}
