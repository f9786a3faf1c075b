using System;
using System.Buffers;
using System.Runtime.CompilerServices;

namespace Allocator.Bench.Peers;

/// <summary><see cref="ArrayPool{T}.Shared"/>: rent and return; a rented array may be larger than asked.</summary>
public readonly struct ArrayPoolPeer : IPeer<byte[]>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte[] Allocate(nuint size) => ArrayPool<byte>.Shared.Rent((int)size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(byte[] block, nuint size) => ArrayPool<byte>.Shared.Return(block);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(byte[] block, nuint offset, byte value) => block[offset] = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte Read(byte[] block, nuint offset) => block[offset];

    public void Fill(byte[] block, nuint size, byte value) => block.AsSpan(0, checked((int)size)).Fill(value);
}

/// <summary><c>new byte[n]</c>: freeing is dropping the reference; the GC does the rest later.</summary>
public readonly struct GcArrayPeer : IPeer<byte[]>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte[] Allocate(nuint size) => new byte[size];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(byte[] block, nuint size) { }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(byte[] block, nuint offset, byte value) => block[offset] = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte Read(byte[] block, nuint offset) => block[offset];

    public void Fill(byte[] block, nuint size, byte value) => block.AsSpan(0, checked((int)size)).Fill(value);
}

internal static class ManagedPeers
{
    private static readonly string Runtime = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription;

    public static PeerProbe ArrayPool() =>
        PeerProbe.Of(new PeerEntry<ArrayPoolPeer, byte[]>("ArrayPool", PeerKind.Managed, false, $"ArrayPool<byte>.Shared, {Runtime}", default, CollectEverything));

    public static PeerProbe GcArray() =>
        PeerProbe.Of(new PeerEntry<GcArrayPeer, byte[]>("new byte[]", PeerKind.Managed, false, $"new byte[n], {Runtime}", default, CollectEverything));

    /// <summary>The managed peers' purge: an aggressive, compacting full collection, which also
    /// trims ArrayPool.Shared and decommits what the GC can.</summary>
    public static void CollectEverything()
    {
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }
}
