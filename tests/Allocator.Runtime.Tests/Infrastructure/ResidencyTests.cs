using Allocator.Os;

namespace Allocator.Tests.Infrastructure;

public sealed unsafe class ResidencyTests
{
    [Fact]
    public void APageIsResidentAfterAWriteAndNotAfterItIsPurged()
    {
        nuint page = Pages.PageSize;
        byte* p = (byte*)Pages.Map(null, 2 * page, page, commit: true);
        Assert.True(p != null);
        try
        {
            Assert.False(Residency.IsResident(p));
            p[0] = 1;
            p[page] = 1;
            Assert.True(Residency.IsResident(p));
            Assert.True(Pages.PurgeForced(p, page));
            Assert.False(Residency.IsResident(p));
            Assert.True(Residency.IsResident(p + page));
        }
        finally
        {
            Pages.Unmap(p, 2 * page);
        }
    }
}
