using System;
using Allocator.Sizing;

namespace Allocator.Tests.Sizing;

/// <summary>The validation shared by the constructor and the analyzers.</summary>
public class ValidationTests
{
    [Theory]
    [InlineData(4, 12, 2, 3)]
    [InlineData(3, 12, 2, 3)]
    [InlineData(4, 16, 2, 3)]
    [InlineData(9, 16, 2, 3)]
    [InlineData(4, 12, 0, 3)]
    [InlineData(4, 12, 1, 4)]
    [InlineData(11, 12, 0, 11)]
    // Eight and sixteen classes per doubling: 456 and 911 classes, within the ten-bit size index.
    [InlineData(4, 12, 3, 3)]
    [InlineData(8, 16, 3, 8)]
    [InlineData(3, 12, 4, 3)]
    [InlineData(7, 16, 4, 3)]
    public void ValidConfigurations(int lgQuantum, int lgPage, int lgGroup, int lgTinyMin)
    {
        Assert.True(SizeClasses.TryValidate(lgQuantum, lgPage, lgGroup, lgTinyMin, out string? name, out string? error));
        Assert.Null(name);
        Assert.Null(error);
        Assert.Equal(lgQuantum, new SizeClasses(lgQuantum, lgPage, lgGroup, lgTinyMin).LgQuantum);
    }

    [Theory]
    [InlineData(4, 11, 2, 3, "lgPage")]
    [InlineData(4, 17, 2, 3, "lgPage")]
    [InlineData(2, 12, 2, 2, "lgQuantum")]
    [InlineData(12, 12, 0, 3, "lgQuantum")]
    [InlineData(4, 12, 2, 2, "lgTinyMin")]
    [InlineData(4, 12, 2, 5, "lgTinyMin")]
    [InlineData(4, 12, -1, 3, "lgGroup")]
    [InlineData(4, 12, 5, 3, "lgGroup")]
    // The 4096-byte lookup must end inside a regular group: lgQuantum + lgGroup <= 11.
    [InlineData(10, 16, 2, 3, "lgQuantum")]
    public void InvalidConfigurations(int lgQuantum, int lgPage, int lgGroup, int lgTinyMin, string parameter)
    {
        Assert.False(SizeClasses.TryValidate(lgQuantum, lgPage, lgGroup, lgTinyMin, out string? name, out string? error));
        Assert.Equal(parameter, name);
        Assert.False(string.IsNullOrEmpty(error));

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new SizeClasses(lgQuantum, lgPage, lgGroup, lgTinyMin));
        Assert.Equal(parameter, ex.ParamName);
        Assert.Contains(error!, ex.Message);
    }

    [Fact]
    public void LargestGroupThatFits()
    {
        // Four classes per doubling with no tiny class and an 8-byte quantum:
        // 4 + (62 - 5 + 1) * 4 - 1 = 235 classes.
        var sc = new SizeClasses(3, 12);
        Assert.Equal(235, sc.Count);
        Assert.Equal(0, sc.NTiny);
        Assert.True(sc.Count <= SizeClasses.MaxClassCount);
    }
}
