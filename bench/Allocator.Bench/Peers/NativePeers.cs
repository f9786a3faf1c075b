using System;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Allocator.Bench.Harness;

namespace Allocator.Bench.Peers;

/// <summary>jemalloc through <c>malloc</c> and either <c>free</c> or its sized free <c>sdallocx(p, size, 0)</c>.</summary>
public readonly unsafe struct JemallocPeer<TFree>(nint malloc, nint free, nint sdallocx) : IPeer<nint>
    where TFree : struct, IFreeMode
{
    private readonly delegate* unmanaged[SuppressGCTransition]<nuint, void*> _malloc =
        (delegate* unmanaged[SuppressGCTransition]<nuint, void*>)malloc;
    private readonly delegate* unmanaged[SuppressGCTransition]<void*, void> _free =
        (delegate* unmanaged[SuppressGCTransition]<void*, void>)free;
    private readonly delegate* unmanaged[SuppressGCTransition]<void*, nuint, int, void> _sdallocx =
        (delegate* unmanaged[SuppressGCTransition]<void*, nuint, int, void>)sdallocx;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public nint Allocate(nuint size) => OutOfMemory.Check(_malloc(size), size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(nint block, nuint size)
    {
        if (TFree.PassesSize)
            _sdallocx((void*)block, size, 0);
        else
            _free((void*)block);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(nint block, nuint offset, byte value) => ((byte*)block)[offset] = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte Read(nint block, nuint offset) => ((byte*)block)[offset];

    public void Fill(nint block, nuint size, byte value) => Bytes.Fill(block, size, value);
}

/// <summary>A C allocator with malloc, free and a two-argument sized free (mimalloc, tcmalloc).</summary>
public readonly unsafe struct NativePeer<TFree>(nint malloc, nint free, nint freeSized) : IPeer<nint>
    where TFree : struct, IFreeMode
{
    private readonly delegate* unmanaged[SuppressGCTransition]<nuint, void*> _malloc =
        (delegate* unmanaged[SuppressGCTransition]<nuint, void*>)malloc;
    private readonly delegate* unmanaged[SuppressGCTransition]<void*, void> _free =
        (delegate* unmanaged[SuppressGCTransition]<void*, void>)free;
    private readonly delegate* unmanaged[SuppressGCTransition]<void*, nuint, void> _freeSized =
        (delegate* unmanaged[SuppressGCTransition]<void*, nuint, void>)freeSized;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public nint Allocate(nuint size) => OutOfMemory.Check(_malloc(size), size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(nint block, nuint size)
    {
        if (TFree.PassesSize)
            _freeSized((void*)block, size);
        else
            _free((void*)block);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(nint block, nuint offset, byte value) => ((byte*)block)[offset] = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte Read(nint block, nuint offset) => ((byte*)block)[offset];

    public void Fill(nint block, nuint size, byte value) => Bytes.Fill(block, size, value);
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte Read(nint block, nuint offset) => ((byte*)block)[offset];

    public void Fill(nint block, nuint size, byte value) => Bytes.Fill(block, size, value);
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

    public static PeerProbe Jemalloc<TFree>() where TFree : struct, IFreeMode
    {
        const string lib = "libjemalloc.so.2";
        if (!NativeLibraries.TryLoad(lib, out nint h, out string reason))
            return PeerProbe.Skip(reason + TlsHint(reason));
        Span<nint> f = stackalloc nint[4];
        if (!NativeLibraries.TryGetExports(h, lib, ["malloc", "sdallocx", "mallctl", "free"], f, out reason))
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
        return PeerProbe.Of(new PeerEntry<JemallocPeer<TFree>, nint>(
            TFree.PassesSize ? "jemalloc sdallocx" : "jemalloc free", PeerKind.Native, TFree.PassesSize,
            $"jemalloc {NativeLibraries.FromUtf8(version)}; malloc + {(TFree.PassesSize ? "sdallocx(p, size, 0)" : "free")}",
            new JemallocPeer<TFree>(f[0], f[3], f[1]), Purge));
    }

    /// <summary>
    /// jemalloc with its hugepage allocator on. jemalloc reads MALLOC_CONF once, when it starts, so
    /// this peer exists only in a child process started with MALLOC_CONF=hpa:true (the hugepages
    /// command starts it so); opt.hpa is read back to prove the setting took.
    /// </summary>
    public static PeerProbe JemallocHpa()
    {
        if (Environment.GetEnvironmentVariable("MALLOC_CONF")?.Contains("hpa:true", StringComparison.Ordinal) != true)
            return PeerProbe.Skip("runs only in a child process started with MALLOC_CONF=hpa:true (the hugepages command)");
        PeerProbe probe = Jemalloc<UnsizedFree>();
        if (probe.Entry is null) return probe;
        NativeLibraries.TryLoad("libjemalloc.so.2", out nint h, out _);
        Span<nint> f = stackalloc nint[1];
        NativeLibraries.TryGetExports(h, "libjemalloc.so.2", ["mallctl"], f, out _);
        var mallctl = (delegate* unmanaged<byte*, void*, nuint*, void*, nuint, int>)f[0];
        bool on = false;
        nuint length = 1;
        int rc;
        fixed (byte* name = "opt.hpa\0"u8)
            rc = mallctl(name, &on, &length, null, 0);
        return rc == 0 && on ? probe : PeerProbe.Skip($"MALLOC_CONF=hpa:true did not turn jemalloc's hugepage allocator on (mallctl rc {rc}, opt.hpa {on})");
    }

    public static PeerProbe Mimalloc<TFree>() where TFree : struct, IFreeMode
    {
        const string lib = "libmimalloc.so.2";
        if (!NativeLibraries.TryLoad(lib, out nint h, out string reason))
            return PeerProbe.Skip(reason);
        Span<nint> f = stackalloc nint[5];
        if (!NativeLibraries.TryGetExports(h, lib, ["mi_malloc", "mi_free_size", "mi_collect", "mi_version", "mi_free"], f, out reason))
            return PeerProbe.Skip(reason);
        var collect = (delegate* unmanaged<byte, void>)f[2];
        int v = ((delegate* unmanaged<int>)f[3])();
        // mi_collect(force: true) frees what it can and returns it to the OS.
        return PeerProbe.Of(new PeerEntry<NativePeer<TFree>, nint>(
            TFree.PassesSize ? "mimalloc mi_free_size" : "mimalloc mi_free", PeerKind.Native, TFree.PassesSize,
            $"mimalloc {v / 100}.{v / 10 % 10}.{v % 10}; mi_malloc + {(TFree.PassesSize ? "mi_free_size" : "mi_free")}",
            new NativePeer<TFree>(f[0], f[4], f[1]), () => collect(1)));
    }

    public static PeerProbe Tcmalloc<TFree>() where TFree : struct, IFreeMode
    {
        const string lib = "libtcmalloc_minimal.so.4";
        if (!NativeLibraries.TryLoad(lib, out nint h, out string reason))
            return PeerProbe.Skip(reason + TlsHint(reason));
        Span<nint> f = stackalloc nint[5];
        if (!NativeLibraries.TryGetExports(h, lib, ["tc_malloc", "tc_free_sized", "MallocExtension_ReleaseFreeMemory", "tc_version", "tc_free"], f, out reason))
            return PeerProbe.Skip(reason);
        var release = (delegate* unmanaged<void>)f[2];
        int major, minor;
        byte* patch;
        byte* version = ((delegate* unmanaged<int*, int*, byte**, byte*>)f[3])(&major, &minor, &patch);
        return PeerProbe.Of(new PeerEntry<NativePeer<TFree>, nint>(
            TFree.PassesSize ? "tcmalloc tc_free_sized" : "tcmalloc tc_free", PeerKind.Native, TFree.PassesSize,
            $"{NativeLibraries.FromUtf8(version)} (minimal); tc_malloc + {(TFree.PassesSize ? "tc_free_sized" : "tc_free")}",
            new NativePeer<TFree>(f[0], f[4], f[1]), () => release()));
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
            "glibc free", PeerKind.Native, false, $"glibc {NativeLibraries.FromUtf8(version)}; NativeMemory.Alloc + NativeMemory.Free (malloc + free; this glibc has no sized free)",
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
