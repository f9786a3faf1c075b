using System;

namespace Allocator.Hpa;

/// <summary>The huge page the hugepage allocator works in: 2 MiB, the PMD size of x86-64 and arm64 with 4 KiB pages.</summary>
internal static class HugePage
{
    /// <summary>Bytes in a huge page, and in a pageslab.</summary>
    public const nuint Size = Os.Pages.HugePageSize;

    /// <summary>The most OS pages a pageslab can have (its bitmaps' capacity).</summary>
    public const int MaxPages = 512;

    /// <summary>OS pages in a pageslab.</summary>
    public static readonly int Pages = (int)(Size / Os.Pages.PageSize);

    /// <summary>
    /// Whether pageslabs can be described on this machine: the OS maps pages with mmap, and a
    /// pageslab's pages fill whole bitmap words.
    /// </summary>
    public static bool IsSupported => (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) && Pages <= MaxPages && Pages % 64 == 0;
}
