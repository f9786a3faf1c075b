using System;
using System.Runtime.InteropServices;

namespace Allocator.Os;

/// <summary>The libc calls behind <see cref="Pages"/> (Linux and macOS share them; only constants differ).</summary>
internal static unsafe partial class LibC
{
    private const string Library = "libc";

    public const int ProtNone = 0;
    public const int ProtReadWrite = 0x1 | 0x2;

    public static readonly int MapPrivate = 0x02;
    public static readonly int MapAnonymous = OperatingSystem.IsMacOS() ? 0x1000 : 0x20;
    public static readonly int MapFixed = 0x10;
    public static readonly int MapNoReserve = OperatingSystem.IsMacOS() ? 0 : 0x4000;

    public const int MadvDontNeed = 4;
    public const int MadvHugePage = 14;
    public const int MadvNoHugePage = 15;
    public const int MadvCollapse = 25;
    public static readonly int MadvFree = OperatingSystem.IsMacOS() ? 5 : 8;

    public static readonly void* MapFailed = (void*)-1;

    [LibraryImport(Library, EntryPoint = "mmap", SetLastError = true)]
    public static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport(Library, EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(void* address, nuint length);

    [LibraryImport(Library, EntryPoint = "mprotect", SetLastError = true)]
    public static partial int Mprotect(void* address, nuint length, int protection);

    [LibraryImport(Library, EntryPoint = "madvise", SetLastError = true)]
    public static partial int Madvise(void* address, nuint length, int advice);
}
