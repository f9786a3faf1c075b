using System;
using System.Threading.Tasks;
using Allocator.Guards;
using Allocator.Tests.Extents;
using Allocator.Tests.Infrastructure;

namespace Allocator.Tests.Guards;

/// <summary>"Guard every N-th extent" (jemalloc's san_*_extent_decide_guard).</summary>
public sealed class GuardSamplerTests
{
    private static readonly nuint Page = Shard.Page;

    [Fact]
    public void EveryOne_GuardsEveryCall()
    {
        using var shard = new Shard();
        var s = new GuardSampler(shard.Context, largeEvery: 1, smallEvery: 1);
        for (int i = 0; i < 10; i++)
        {
            Assert.True(s.ShouldGuardLarge(4 * Page, Page));
            Assert.True(s.ShouldGuardSlab());
        }
    }

    [Fact]
    public void EveryThird_GuardsTheThirdOfEachThree()
    {
        using var shard = new Shard();
        var s = new GuardSampler(shard.Context, largeEvery: 3, smallEvery: 3);
        for (int i = 1; i <= 12; i++)
        {
            Assert.Equal(i % 3 == 0, s.ShouldGuardLarge(4 * Page, Page));
            Assert.Equal(i % 3 == 0, s.ShouldGuardSlab());
        }
    }

    [Fact]
    public void UnsuitableLarge_PassesItsTurnToTheNextEligible()
    {
        using var shard = new Shard();
        var s = new GuardSampler(shard.Context, largeEvery: 2, smallEvery: 0);
        ulong max = shard.Context.PageClasses.LargeMaxClass;
        Assert.False(s.ShouldGuardLarge(4 * Page, Page));
        // Its turn, but aligned above a page: not guarded, and the turn is kept.
        Assert.False(s.ShouldGuardLarge(4 * Page, 2 * Page));
        // Its turn, but two guard pages would not fit below the largest size class.
        Assert.False(s.ShouldGuardLarge((nuint)max - Page, Page));
        Assert.True(s.ShouldGuardLarge((nuint)max - 2 * Page, Page));
        Assert.False(s.ShouldGuardLarge(4 * Page, Page));
        Assert.True(s.ShouldGuardLarge(4 * Page, Page));
        // An unsuitable one while counting down still counts.
        Assert.False(s.ShouldGuardLarge(4 * Page, 2 * Page));
        Assert.True(s.ShouldGuardLarge(4 * Page, Page));
    }

    [Fact]
    public void Zero_NeverGuards()
    {
        using var shard = new Shard();
        var s = new GuardSampler(shard.Context, largeEvery: 0, smallEvery: 0);
        for (int i = 0; i < 100; i++)
        {
            Assert.False(s.ShouldGuardLarge(4 * Page, Page));
            Assert.False(s.ShouldGuardSlab());
        }
    }

    [Fact]
    public void CustomHooks_NeverGuard()
    {
        using var shard = new Shard(new TestExtentHooks(retain: true));
        var s = new GuardSampler(shard.Context, largeEvery: 1, smallEvery: 1);
        Assert.Equal(0, s.LargeEvery);
        Assert.Equal(0, s.SmallEvery);
        Assert.False(s.ShouldGuardLarge(4 * Page, Page));
        Assert.False(s.ShouldGuardSlab());
    }

    [Fact]
    public void NegativeCounts_AreRefused()
    {
        using var shard = new Shard();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new GuardSampler(shard.Context, largeEvery: -1, smallEvery: 1));
        Assert.Equal("largeEvery", e.ParamName);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => new GuardSampler(shard.Context, largeEvery: 1, smallEvery: -2));
        Assert.Equal("smallEvery", e.ParamName);
    }

    [Fact]
    public void ConcurrentCallers_GuardExactlyOneInN()
    {
        using var shard = new Shard();
        var s = new GuardSampler(shard.Context, largeEvery: 4, smallEvery: 5);
        const int Threads = 4, Calls = 25_000;
        int large = 0, small = 0;
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, _ =>
        {
            int l = 0, m = 0;
            for (int i = 0; i < Calls; i++)
            {
                if (s.ShouldGuardLarge(4 * Page, Page)) l++;
                if (s.ShouldGuardSlab()) m++;
            }

            System.Threading.Interlocked.Add(ref large, l);
            System.Threading.Interlocked.Add(ref small, m);
        });
        Assert.Equal(Threads * Calls / 4, large);
        Assert.Equal(Threads * Calls / 5, small);
    }
}
