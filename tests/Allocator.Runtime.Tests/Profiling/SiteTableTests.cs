using System.Diagnostics;
using Allocator.Profiling;

namespace Allocator.Tests.Profiling;

/// <summary>The site table's walked-stack keys: a hash shared by two stacks still gives two sites.</summary>
public sealed class SiteTableTests
{
    [Fact]
    public void StacksWithOneHashAreTwoSites()
    {
        var table = new SiteTable();
        var trace = new StackTrace();
        nuint[] a = [1, 2, 3], b = [4, 5, 6];
        int siteA = table.Intern(42, a, trace);
        int siteB = table.Intern(42, b, trace);
        Assert.NotEqual(siteA, siteB);
        Assert.Equal(siteA, table.Find(42, a));
        Assert.Equal(siteB, table.Find(42, b));
        Assert.Equal(-1, table.Find(42, [7, 8, 9]));
        Assert.Equal(siteA, table.Intern(42, a, trace));
        Assert.Equal(2, table.Count);
    }
}
