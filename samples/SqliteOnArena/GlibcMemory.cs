using System.Runtime.InteropServices;

namespace SqliteOnArena;

/// <summary>
/// The same callback layer over glibc's malloc, so a comparison with <see cref="ArenaMemory"/>
/// differs only in the allocator behind it.
/// </summary>
public static unsafe partial class GlibcMemory
{
    /// <summary>The callbacks to give <c>sqlite3_config(SQLITE_CONFIG_MALLOC, ...)</c>.</summary>
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

    [UnmanagedCallersOnly]
    private static void* Malloc(int size) => NativeMemory.Alloc((nuint)(uint)size);

    [UnmanagedCallersOnly]
    private static void Free(void* pointer) => NativeMemory.Free(pointer);

    [UnmanagedCallersOnly]
    private static void* Realloc(void* pointer, int size) => NativeMemory.Realloc(pointer, (nuint)(uint)size);

    [UnmanagedCallersOnly]
    private static int Size(void* pointer) => (int)MallocUsableSize(pointer);

    // glibc has no public size-class table; 8-byte rounding is what SQLite's own allocator uses.
    [UnmanagedCallersOnly]
    private static int Roundup(int size) => size > int.MaxValue - 7 ? size : (size + 7) & ~7;

    [LibraryImport("libc", EntryPoint = "malloc_usable_size")]
    private static partial nuint MallocUsableSize(void* pointer);
}
