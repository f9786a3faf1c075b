using System;
using System.Runtime.InteropServices;

namespace Allocator.Tests.Infrastructure;

/// <summary>Whether pages are in RAM right now, from the kernel (mincore(2)).</summary>
internal static unsafe partial class Residency
{
    public static bool IsResident(void* page)
    {
        byte state;
        nuint aligned = (nuint)page & ~(nuint)(Environment.SystemPageSize - 1);
        int rc = mincore((void*)aligned, (nuint)Environment.SystemPageSize, &state);
        Assert.True(rc == 0, $"mincore failed with errno {Marshal.GetLastPInvokeError()}");
        return (state & 1) != 0;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int mincore(void* address, nuint length, byte* vector);
}
