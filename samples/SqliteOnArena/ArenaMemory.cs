using System.Runtime.InteropServices;
using Allocator;
using Allocator.Sizing;

namespace SqliteOnArena;

/// <summary>SQLite's allocator callbacks over <see cref="SqliteArena.Shared"/>.</summary>
/// <remarks>
/// xFree and xSize are the generated entry points themselves (xSize returns an int, and C reads the
/// low half of the register the nuint comes back in). xMalloc and xRealloc take an int, whose upper
/// register half C leaves undefined, so they get size_t-correct adapters here over the same
/// <see cref="CAllocator"/> calls the generated entry points make.
/// </remarks>
public static unsafe class ArenaMemory
{
    // The arena's own size classes, so SQLite asks for (and accounts) what it will really get.
    private static readonly SizeClasses s_classes = new(
        SqliteArena.Policy.LgQuantum, SqliteArena.Policy.LgPage, SqliteArena.Policy.LgGroup, SqliteArena.Policy.LgTinyMin);

    /// <summary>The callbacks to give <c>sqlite3_config(SQLITE_CONFIG_MALLOC, ...)</c>.</summary>
    public static MemMethods Methods => new()
    {
        Malloc = &Malloc,
        Free = &SqliteArena.Native.Free,
        Realloc = &Realloc,
        Size = (delegate* unmanaged<void*, int>)(delegate* unmanaged<void*, nuint>)&SqliteArena.Native.UsableSize,
        Roundup = &Roundup,
        Init = &SqliteCallbacks.Init,
        Shutdown = &SqliteCallbacks.Shutdown,
    };

    [UnmanagedCallersOnly]
    private static void* Malloc(int size) => CAllocator.Malloc(SqliteArena.Shared.Core, (nuint)(uint)size);

    [UnmanagedCallersOnly]
    private static void* Realloc(void* pointer, int size) => CAllocator.Realloc(SqliteArena.Shared.Core, pointer, (nuint)(uint)size);

    // SQLite never asks for more than 2 GiB; a request past the largest class is left as it is.
    [UnmanagedCallersOnly]
    private static int Roundup(int size)
    {
        ulong rounded = s_classes.RoundUp((ulong)(uint)size);
        return rounded is 0 or > int.MaxValue ? size : (int)rounded;
    }
}
