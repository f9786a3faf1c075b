using System;

namespace Allocator.Tests.Sizing;

/// <summary>
/// The loop of jemalloc's test/unit/size_classes.c, which it runs once for size classes and once
/// for page-size classes with the same assertions.
/// </summary>
internal static class ClassRoundTrip
{
    /// <summary>Walks every class below <paramref name="maxSize"/> and checks index, size and rounding agree.</summary>
    /// <param name="maxSize">The largest size (its index ends the walk).</param>
    /// <param name="toIndex">Size to index (size2index or psz2ind).</param>
    /// <param name="toSize">Index to size (index2size or pind2sz).</param>
    /// <param name="roundUp">Size to class size (s2u or psz2u).</param>
    internal static void Check(ulong maxSize, Func<ulong, int> toIndex, Func<int, ulong> toSize, Func<ulong, ulong> roundUp)
    {
        int maxIndex = toIndex(maxSize);
        int index = 0;
        ulong size = toSize(0);
        for (; index < maxIndex || size < maxSize; index++, size = toSize(index))
        {
            // Both loop conditions must end together.
            Assert.True(index < maxIndex);
            Assert.True(size < maxSize);
            Assert.Equal(index, toIndex(size));
            Assert.Equal(size, toSize(toIndex(size)));
            Assert.Equal(index + 1, toIndex(size + 1));
            Assert.Equal(size, index > 0 ? roundUp(toSize(index - 1) + 1) : roundUp(1));
            Assert.Equal(size, roundUp(size - 1));
            Assert.Equal(size, roundUp(size));
            Assert.Equal(toSize(index + 1), roundUp(size + 1));
        }

        Assert.Equal(index, toIndex(toSize(index)));
        Assert.Equal(maxSize, toSize(toIndex(maxSize)));
        Assert.Equal(size, roundUp(toSize(index - 1) + 1));
        Assert.Equal(size, roundUp(size - 1));
        Assert.Equal(size, roundUp(size));
    }
}
