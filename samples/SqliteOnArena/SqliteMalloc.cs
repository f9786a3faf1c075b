using System;
using System.Runtime.InteropServices;

namespace SqliteOnArena;

/// <summary>Installs an allocator in SQLite with <c>sqlite3_config(SQLITE_CONFIG_MALLOC, ...)</c>.</summary>
public static unsafe class SqliteMalloc
{
    private const int SqliteConfigMalloc = 4;

    /// <summary>
    /// Gives SQLite <paramref name="methods"/> for all its memory. It must come before any other
    /// SQLite call (SQLite refuses it once initialized), so it goes straight to the native library
    /// that SQLitePCLRaw's provider will load.
    /// </summary>
    /// <exception cref="InvalidOperationException">SQLite refused the configuration (it was already initialized).</exception>
    public static void Install(MemMethods methods)
    {
        // sqlite3_config is variadic and SQLitePCLRaw wraps no pointer form of it. On x64 and on
        // AArch64 Linux and Windows a variadic call passes integer and pointer arguments as a plain
        // call does; Apple's AArch64 ABI puts them on the stack, so it is refused there.
        if (OperatingSystem.IsMacOS() && RuntimeInformation.ProcessArchitecture == Architecture.Arm64)
        {
            throw new PlatformNotSupportedException("sqlite3_config's variadic argument cannot be passed on Apple's AArch64 ABI through a plain function pointer.");
        }

        nint library = NativeLibrary.Load("e_sqlite3", typeof(SQLitePCL.SQLite3Provider_e_sqlite3).Assembly, null);
        var config = (delegate* unmanaged<int, MemMethods*, int>)NativeLibrary.GetExport(library, "sqlite3_config");
        // SQLite copies the struct, so a local will do.
        int rc = config(SqliteConfigMalloc, &methods);
        if (rc != 0)
        {
            throw new InvalidOperationException($"sqlite3_config(SQLITE_CONFIG_MALLOC) returned {rc}: SQLite was already initialized.");
        }
    }
}
