using System;
using System.Runtime.InteropServices;
using Allocator.Bench.Peers;
using SqliteOnArena;

namespace Allocator.Bench.Sqlite;

/// <summary>
/// SQLite's allocator callbacks over a C allocator loaded with <see cref="NativeLibrary"/>: the
/// library's own malloc, free, realloc, usable-size and good-size functions behind the same
/// <c>[UnmanagedCallersOnly]</c> adapters the arena's layer (<see cref="ArenaMemory"/>) has, so a
/// comparison differs only in the allocator. One library per process (the bench's child).
/// </summary>
/// <remarks>
/// The library's functions are called with SuppressGCTransition, as the bench's other native rows
/// call them: a callback then costs what a C caller of that library pays, plus the same entry into
/// managed code every layer pays.
/// </remarks>
internal static unsafe class LibraryMemory
{
    private static delegate* unmanaged[SuppressGCTransition]<nuint, void*> s_malloc;
    private static delegate* unmanaged[SuppressGCTransition]<void*, void> s_free;
    private static delegate* unmanaged[SuppressGCTransition]<void*, nuint, void*> s_realloc;
    private static delegate* unmanaged[SuppressGCTransition]<void*, nuint> s_usableSize;
    private static delegate* unmanaged[SuppressGCTransition]<nuint, int, nuint> s_goodSize;

    /// <summary>The C libraries this layer can load, by the bench's peer id.</summary>
    /// <remarks>Each row: the library, its malloc, free, realloc and usable-size exports, and the
    /// export that says what a request will really get (null: 8-byte rounding, as SQLite's own
    /// allocator assumes).</remarks>
    private static readonly (string Peer, string Library, string[] Exports, string? GoodSize)[] s_libraries =
    [
        ("glibc", "libc.so.6", ["malloc", "free", "realloc", "malloc_usable_size"], null),
        ("jemalloc", "libjemalloc.so.2", ["malloc", "free", "realloc", "malloc_usable_size"], "nallocx"),
        ("mimalloc", "libmimalloc.so.2", ["mi_malloc", "mi_free", "mi_realloc", "mi_usable_size"], "mi_good_size"),
        ("tcmalloc", "libtcmalloc_minimal.so.4", ["tc_malloc", "tc_free", "tc_realloc", "tc_malloc_size"], "tc_nallocx"),
    ];

    /// <summary>Whether <paramref name="peer"/> is one of this layer's libraries.</summary>
    public static bool Knows(string peer) => Array.Exists(s_libraries, l => l.Peer == peer);

    /// <summary>Loads the library of <paramref name="peer"/> and binds the callbacks to it;
    /// on failure returns false with the loader's reason.</summary>
    public static bool TryBind(string peer, out string description, out string reason)
    {
        var row = Array.Find(s_libraries, l => l.Peer == peer);
        description = "";
        if (row.Library is null)
        {
            reason = $"no C library is known for '{peer}'";
            return false;
        }

        if (!NativeLibraries.TryLoad(row.Library, out nint handle, out reason))
            return false;
        Span<nint> f = stackalloc nint[4];
        if (!NativeLibraries.TryGetExports(handle, row.Library, row.Exports, f, out reason))
            return false;
        s_malloc = (delegate* unmanaged[SuppressGCTransition]<nuint, void*>)f[0];
        s_free = (delegate* unmanaged[SuppressGCTransition]<void*, void>)f[1];
        s_realloc = (delegate* unmanaged[SuppressGCTransition]<void*, nuint, void*>)f[2];
        s_usableSize = (delegate* unmanaged[SuppressGCTransition]<void*, nuint>)f[3];
        if (row.GoodSize is not null)
        {
            if (!NativeLibrary.TryGetExport(handle, row.GoodSize, out nint goodSize))
            {
                reason = $"{row.Library} has no export '{row.GoodSize}'";
                return false;
            }

            s_goodSize = (delegate* unmanaged[SuppressGCTransition]<nuint, int, nuint>)goodSize;
        }

        description = $"{row.Library}: {string.Join(", ", row.Exports)}, xRoundup {row.GoodSize ?? "8-byte rounding"}";
        return true;
    }

    /// <summary>The callbacks to give <c>sqlite3_config(SQLITE_CONFIG_MALLOC, ...)</c>, after <see cref="TryBind"/>.</summary>
    public static MemMethods Methods => new()
    {
        Malloc = &Malloc,
        Free = &Free,
        Realloc = &Realloc,
        Size = &Size,
        Roundup = &Roundup,
        Init = &SqliteCallbacks.Init,
        Shutdown = &SqliteCallbacks.Shutdown,
    };

    // SQLite's int sizes: C leaves the upper half of the register undefined, so widen from 32 bits.
    [UnmanagedCallersOnly]
    private static void* Malloc(int size) => s_malloc((nuint)(uint)size);

    [UnmanagedCallersOnly]
    private static void Free(void* pointer) => s_free(pointer);

    [UnmanagedCallersOnly]
    private static void* Realloc(void* pointer, int size) => s_realloc(pointer, (nuint)(uint)size);

    [UnmanagedCallersOnly]
    private static int Size(void* pointer) => (int)s_usableSize(pointer);

    // nallocx and tc_nallocx take a flags argument (0: no alignment); mi_good_size takes none, and
    // the C calling convention lets a callee ignore an extra integer argument.
    [UnmanagedCallersOnly]
    private static int Roundup(int size)
    {
        if (s_goodSize == null)
            return size > int.MaxValue - 7 ? size : (size + 7) & ~7;
        nuint rounded = s_goodSize((nuint)(uint)size, 0);
        return rounded is 0 or > int.MaxValue ? size : (int)rounded;
    }
}
