using System;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Allocator.Bench.Harness;

namespace Allocator.Bench.Peers;

/// <summary>jemalloc: malloc and sized free (sdallocx), which is what the project's arena offers too.</summary>
public readonly unsafe struct JemallocPeer(nint malloc, nint sdallocx) : IPeer<nint>
{
    private readonly delegate* unmanaged[SuppressGCTransition]<nuint, void*> _malloc =
        (delegate* unmanaged[SuppressGCTransition]<nuint, void*>)malloc;
    private readonly delegate* unmanaged[SuppressGCTransition]<void*, nuint, int, void> _sdallocx =
        (delegate* unmanaged[SuppressGCTransition]<void*, nuint, int, void>)sdallocx;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public nint Allocate(nuint size) => OutOfMemory.Check(_malloc(size), size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(nint block, nuint size) => _sdallocx((void*)block, size, 0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(nint block, nuint offset, byte value) => ((byte*)block)[offset] = value;
}

/// <summary>A C allocator with malloc and a two-argument sized free (mimalloc, tcmalloc).</summary>
public readonly unsafe struct SizedNativePeer(nint malloc, nint freeSized) : IPeer<nint>
{
    private readonly delegate* unmanaged[SuppressGCTransition]<nuint, void*> _malloc =
        (delegate* unmanaged[SuppressGCTransition]<nuint, void*>)malloc;
    private readonly delegate* unmanaged[SuppressGCTransition]<void*, nuint, void> _free =
        (delegate* unmanaged[SuppressGCTransition]<void*, nuint, void>)freeSized;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public nint Allocate(nuint size) => OutOfMemory.Check(_malloc(size), size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(nint block, nuint size) => _free((void*)block, size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(nint block, nuint offset, byte value) => ((byte*)block)[offset] = value;
}

/// <summary>glibc's malloc as .NET code reaches it: through <see cref="NativeMemory"/>.</summary>
public readonly unsafe struct GlibcPeer : IPeer<nint>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public nint Allocate(nuint size) => (nint)NativeMemory.Alloc(size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(nint block, nuint size) => NativeMemory.Free((void*)block);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(nint block, nuint offset, byte value) => ((byte*)block)[offset] = value;
}

internal static unsafe class OutOfMemory
{
    /// <summary>C allocators return null when out of memory; the harness throws, as the arena does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static nint Check(void* p, nuint size)
    {
        if (p == null)
            Throw(size);
        return (nint)p;
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void Throw(nuint size) => throw new OutOfMemoryException($"The peer returned null for {size} bytes.");
}

/// <summary>Finds the native peers' libraries and entry points; a missing one becomes a skip reason.</summary>
internal static unsafe class NativePeers
{
    // jemalloc's MALLCTL_ARENAS_ALL (jemalloc_macros.h): the arena index that means "every arena".
    private const int MallctlArenasAll = 4096;

    public static PeerProbe Jemalloc()
    {
        const string lib = "libjemalloc.so.2";
        if (!NativeLibraries.TryLoad(lib, out nint h, out string reason))
            return PeerProbe.Skip(reason + TlsHint(reason));
        Span<nint> f = stackalloc nint[3];
        if (!NativeLibraries.TryGetExports(h, lib, ["malloc", "sdallocx", "mallctl"], f, out reason))
            return PeerProbe.Skip(reason);
        var mallctl = (delegate* unmanaged<byte*, void*, nuint*, void*, nuint, int>)f[2];

        // Asking jemalloc for its version proves that the symbols are jemalloc's and not glibc's.
        byte* version = null;
        nuint length = (nuint)sizeof(byte*);
        int rc;
        fixed (byte* name = "version\0"u8)
            rc = mallctl(name, &version, &length, null, 0);
        if (rc != 0)
            return PeerProbe.Skip($"{lib}: mallctl(\"version\") failed with {rc}");

        void Purge()
        {
            // Flush this thread's cache first, so that its cached regions can be purged too.
            Mallctl(mallctl, "thread.tcache.flush");
            Mallctl(mallctl, $"arena.{MallctlArenasAll}.purge");
        }
        return PeerProbe.Of(new PeerEntry<JemallocPeer, nint>(
            "jemalloc", PeerKind.Native, $"jemalloc {NativeLibraries.FromUtf8(version)}; malloc + sdallocx",
            new JemallocPeer(f[0], f[1]), Purge));
    }

    public static PeerProbe Mimalloc()
    {
        const string lib = "libmimalloc.so.2";
        if (!NativeLibraries.TryLoad(lib, out nint h, out string reason))
            return PeerProbe.Skip(reason);
        Span<nint> f = stackalloc nint[4];
        if (!NativeLibraries.TryGetExports(h, lib, ["mi_malloc", "mi_free_size", "mi_collect", "mi_version"], f, out reason))
            return PeerProbe.Skip(reason);
        var collect = (delegate* unmanaged<byte, void>)f[2];
        int v = ((delegate* unmanaged<int>)f[3])();
        // mi_collect(force: true) frees what it can and returns it to the OS.
        return PeerProbe.Of(new PeerEntry<SizedNativePeer, nint>(
            "mimalloc", PeerKind.Native, $"mimalloc {v / 100}.{v / 10 % 10}.{v % 10}; mi_malloc + mi_free_size",
            new SizedNativePeer(f[0], f[1]), () => collect(1)));
    }

    public static PeerProbe Tcmalloc()
    {
        const string lib = "libtcmalloc_minimal.so.4";
        if (!NativeLibraries.TryLoad(lib, out nint h, out string reason))
            return PeerProbe.Skip(reason + TlsHint(reason));
        Span<nint> f = stackalloc nint[4];
        if (!NativeLibraries.TryGetExports(h, lib, ["tc_malloc", "tc_free_sized", "MallocExtension_ReleaseFreeMemory", "tc_version"], f, out reason))
            return PeerProbe.Skip(reason);
        var release = (delegate* unmanaged<void>)f[2];
        int major, minor;
        byte* patch;
        byte* version = ((delegate* unmanaged<int*, int*, byte**, byte*>)f[3])(&major, &minor, &patch);
        return PeerProbe.Of(new PeerEntry<SizedNativePeer, nint>(
            "tcmalloc", PeerKind.Native, $"{NativeLibraries.FromUtf8(version)} (minimal); tc_malloc + tc_free_sized",
            new SizedNativePeer(f[0], f[1]), () => release()));
    }

    public static PeerProbe Glibc()
    {
        // NativeMemory needs nothing loaded; libc is only needed for the purge and the version.
        const string lib = "libc.so.6";
        if (!NativeLibraries.TryLoad(lib, out nint h, out string reason))
            return PeerProbe.Skip(reason);
        Span<nint> f = stackalloc nint[2];
        if (!NativeLibraries.TryGetExports(h, lib, ["malloc_trim", "gnu_get_libc_version"], f, out reason))
            return PeerProbe.Skip(reason);
        var trim = (delegate* unmanaged<nuint, int>)f[0];
        byte* version = ((delegate* unmanaged<byte*>)f[1])();
        return PeerProbe.Of(new PeerEntry<GlibcPeer, nint>(
            "glibc", PeerKind.Native, $"glibc {NativeLibraries.FromUtf8(version)}; NativeMemory.Alloc + Free",
            default, () => trim(0)));
    }

    private static void Mallctl(delegate* unmanaged<byte*, void*, nuint*, void*, nuint, int> mallctl, string name)
    {
        byte* text = (byte*)Marshal.StringToCoTaskMemUTF8(name);
        try
        {
            int rc = mallctl(text, null, null, null, 0);
            if (rc != 0)
                throw new InvalidOperationException($"jemalloc mallctl(\"{name}\") failed with {rc}.");
        }
        finally
        {
            Marshal.FreeCoTaskMem((nint)text);
        }
    }

    private static string TlsHint(string reason) =>
        reason.Contains("static TLS", StringComparison.Ordinal)
            ? $" (the process needs {Tunables.Name}={Tunables.Value}; the harness sets it by re-executing itself unless --no-reexec)"
            : "";
}
