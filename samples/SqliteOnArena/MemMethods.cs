using System.Runtime.InteropServices;

namespace SqliteOnArena;

/// <summary>SQLite's <c>sqlite3_mem_methods</c>: the allocator it calls for every block, as C declares it.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct MemMethods
{
    /// <summary>xMalloc: <c>void *(*)(int)</c>.</summary>
    public delegate* unmanaged<int, void*> Malloc;

    /// <summary>xFree: <c>void (*)(void*)</c>.</summary>
    public delegate* unmanaged<void*, void> Free;

    /// <summary>xRealloc: <c>void *(*)(void*, int)</c>.</summary>
    public delegate* unmanaged<void*, int, void*> Realloc;

    /// <summary>xSize: <c>int (*)(void*)</c>, the usable size of a block.</summary>
    public delegate* unmanaged<void*, int> Size;

    /// <summary>xRoundup: <c>int (*)(int)</c>, the size a request will really get.</summary>
    public delegate* unmanaged<int, int> Roundup;

    /// <summary>xInit: <c>int (*)(void*)</c>, called from sqlite3_initialize.</summary>
    public delegate* unmanaged<void*, int> Init;

    /// <summary>xShutdown: <c>void (*)(void*)</c>, called from sqlite3_shutdown.</summary>
    public delegate* unmanaged<void*, void> Shutdown;

    /// <summary>pAppData: handed to xInit and xShutdown.</summary>
    public void* AppData;
}
