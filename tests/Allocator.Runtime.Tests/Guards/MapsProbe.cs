using Allocator.Tests.Infrastructure;

namespace Allocator.Tests.Guards;

/// <summary>Assertions about guard pages, on the kernel's view of the address space.</summary>
internal static unsafe class MapsProbe
{
    /// <summary>
    /// Asserts that exactly [<paramref name="page"/>, +<paramref name="size"/>) is one PROT_NONE region.
    /// The kernel shows adjacent mappings with equal permissions as one region, so exact bounds also
    /// prove that the pages on both sides are not PROT_NONE.
    /// </summary>
    public static void AssertGuardExactly(void* page, nuint size)
    {
        MapsRegion? r = ProcMaps.FindRegion(page);
        Assert.True(r.HasValue, $"nothing mapped at 0x{(nuint)page:x}");
        Assert.Equal("---p", r.Value.Permissions);
        Assert.Equal((nuint)page, r.Value.Start);
        Assert.Equal((nuint)page + size, r.Value.End);
    }

    /// <summary>Asserts that the page holding <paramref name="address"/> is private and read-write.</summary>
    public static void AssertReadWrite(void* address) => Assert.Equal("rw-p", ProcMaps.PermissionsAt(address));
}
