namespace Allocator.Bench.Peers;

/// <summary>
/// Which of an allocator's two free entry points a peer row calls: the unsized one (<c>free(p)</c>,
/// <c>Arena.Free(p)</c>), which must find the size class from the pointer, or the sized one
/// (<c>sdallocx</c>, <c>Arena.FreeSized</c>), which is told it. A type argument rather than a
/// field, so that the JIT compiles each row with the other branch gone.
/// </summary>
public interface IFreeMode
{
    /// <summary>True when the row passes the size to the allocator's free.</summary>
    static abstract bool PassesSize { get; }
}

/// <summary>The unsized free: what most C and .NET code calls.</summary>
public readonly struct UnsizedFree : IFreeMode
{
    /// <inheritdoc />
    public static bool PassesSize => false;
}

/// <summary>The sized free: for callers that keep the size.</summary>
public readonly struct SizedFree : IFreeMode
{
    /// <inheritdoc />
    public static bool PassesSize => true;
}

/// <summary>Native memory access shared by every pointer-based peer.</summary>
internal static unsafe class Bytes
{
    public static void Fill(nint block, nuint size, byte value) => System.Runtime.InteropServices.NativeMemory.Fill((void*)block, size, value);
}
