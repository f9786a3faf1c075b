using Allocator.Os;

namespace Allocator.Tests.Infrastructure;

/// <summary>ProcMaps sees mappings appear, change protection and disappear.</summary>
[Collection(ProcessWideCollection.Name)]
public unsafe class ProcMapsTests
{
    private static readonly nuint Page = Pages.PageSize;

    [Fact]
    public void Sees_a_mapping_its_protection_and_its_removal()
    {
        Assert.True(ProcMaps.IsSupported);
        byte* p = (byte*)Pages.Map(null, 3 * Page, Page, commit: true);
        Assert.True(p != null);
        Assert.True(ProcMaps.TotalMappedBytes() >= 3 * Page);
        Assert.Equal(0, ProcMaps.CountProtNone(p, 3 * Page));

        Assert.Equal("rw-p", ProcMaps.PermissionsAt(p + Page));
        Assert.Equal(3 * Page, ProcMaps.MappedBytesIn(p, 3 * Page));

        Assert.True(Pages.Protect(p + Page, Page));
        MapsRegion guard = ProcMaps.FindRegion(p + Page)!.Value;
        Assert.True(guard.IsProtNone);
        Assert.Equal(((nuint)(p + Page), (nuint)(p + 2 * Page)), (guard.Start, guard.End)); // rw neighbours keep it a region of its own
        Assert.Equal(1, ProcMaps.CountProtNone(p, 3 * Page));
        Assert.True(ProcMaps.CountProtNone() >= 1);

        Assert.True(Pages.Unmap(p, 3 * Page));
        // The runtime may map something new at the freed addresses at once (CI saw it), so check
        // that our regions are gone rather than that nothing is there.
        MapsRegion? after = ProcMaps.FindRegion(p + Page);
        Assert.False(after is { } r && r.Start == (nuint)(p + Page) && r.End == (nuint)(p + 2 * Page) && r.IsProtNone, "the guard page is still mapped");
        MapsRegion? first = ProcMaps.FindRegion(p);
        Assert.False(first is { } f && f.Start == (nuint)p && f.End == (nuint)(p + Page), "the first page is still mapped as before");
    }
}
