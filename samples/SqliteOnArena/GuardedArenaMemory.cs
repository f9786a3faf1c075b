using System.Runtime.InteropServices;
using Allocator;

namespace SqliteOnArena;

/// <summary>SQLite's allocator callbacks over <see cref="GuardedSqliteArena.Shared"/>, as <see cref="ArenaMemory"/> has them over the unguarded arena.</summary>
public static unsafe class GuardedArenaMemory
{
    /// <summary>The callbacks to give <c>sqlite3_config(SQLITE_CONFIG_MALLOC, ...)</c>.</summary>
    public static MemMethods Methods => new()
    {
        Malloc = &Malloc,
        Free = &GuardedSqliteArena.Native.Free,
        Realloc = &Realloc,
        Size = (delegate* unmanaged<void*, int>)(delegate* unmanaged<void*, nuint>)&GuardedSqliteArena.Native.UsableSize,
        Roundup = ArenaMemory.Methods.Roundup,
        Init = &SqliteCallbacks.Init,
        Shutdown = &SqliteCallbacks.Shutdown,
    };

    [UnmanagedCallersOnly]
    private static void* Malloc(int size) => CAllocator.Malloc(GuardedSqliteArena.Shared.Core, (nuint)(uint)size);

    [UnmanagedCallersOnly]
    private static void* Realloc(void* pointer, int size) => CAllocator.Realloc(GuardedSqliteArena.Shared.Core, pointer, (nuint)(uint)size);
}
