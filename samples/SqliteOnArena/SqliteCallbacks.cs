using System.Runtime.InteropServices;

namespace SqliteOnArena;

/// <summary>xInit and xShutdown for both callback layers: the allocators need no setup.</summary>
public static unsafe class SqliteCallbacks
{
    /// <summary>xInit: nothing to set up; SQLITE_OK.</summary>
    [UnmanagedCallersOnly]
    public static int Init(void* appData) => 0;

    /// <summary>xShutdown: nothing to tear down.</summary>
    [UnmanagedCallersOnly]
    public static void Shutdown(void* appData)
    {
    }
}
