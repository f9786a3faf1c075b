using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Allocator.Profiling;

namespace Allocator.Tests.Profiling;

/// <summary>
/// The frame-pointer walk that keys a sample's site: available on x64 Linux, the same addresses for
/// the same stack, different ones for another caller.
/// </summary>
public sealed class FrameWalkerTests
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static nuint[] WalkFromA() => Walk();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static nuint[] WalkFromB() => Walk();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static nuint[] Walk()
    {
        Span<nuint> frames = stackalloc nuint[FrameWalker.MaxFrames];
        return frames[..FrameWalker.Walk(frames)].ToArray();
    }

    [Fact]
    public void TheSameStackGivesTheSameAddressesAndAnotherCallerOthers()
    {
        bool expected = OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;
        Assert.Equal(expected, FrameWalker.Available);
        if (!expected)
        {
            Assert.Empty(Walk());
            return;
        }

        // Both walks from one call site, so that the addresses in this method agree too.
        var fromA = new nuint[2][];
        for (int i = 0; i < 2; i++) fromA[i] = WalkFromA();
        nuint[] a1 = fromA[0], a2 = fromA[1], b = WalkFromB();
        // The test's frames, xunit's and the runtime's below them: far more than the three above.
        Assert.True(a1.Length > 5, $"only {a1.Length} frames");
        Assert.Equal(a1, a2);
        Assert.NotEqual(a1, b);
        // Below this method the two stacks are one.
        Assert.Equal(a1.Length, b.Length);
        Assert.Equal(a1[^3..], b[^3..]);
        Assert.Equal(SiteTable.Hash(a1), SiteTable.Hash(a2));
        Assert.NotEqual(SiteTable.Hash(a1), SiteTable.Hash(b));
    }
}
