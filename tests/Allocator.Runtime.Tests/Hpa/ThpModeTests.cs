using Allocator.Hpa;

namespace Allocator.Tests.Hpa;

/// <summary>Reading the system's transparent huge page mode.</summary>
public sealed class ThpModeTests
{
    [Theory]
    [InlineData("[always] madvise never\n", (int)ThpMode.Always)]
    [InlineData("always [madvise] never\n", (int)ThpMode.Madvise)]
    [InlineData("always madvise [never]\n", (int)ThpMode.Never)]
    [InlineData("always madvise never\n", (int)ThpMode.Absent)]
    [InlineData("", (int)ThpMode.Absent)]
    public void The_bracketed_mode_is_the_active_one(string text, int expected) => Assert.Equal((ThpMode)expected, Thp.Parse(text));
}
