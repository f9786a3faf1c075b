using System;
using System.Collections.Generic;
using Allocator.Hooks;
using Allocator.Hpa;
using Allocator.Os;
using Allocator.Tests.Infrastructure;

namespace Allocator.Tests.Metadata;

using Base = Allocator.Metadata.Base;

/// <summary>
/// A base with huge-page blocks (what an Eager arena's metadata uses): its first blocks stay in small
/// pages, later ones are whole 2 MiB-aligned huge pages that the kernel backs with huge pages, and
/// its resident figure counts a touched huge page whole.
/// </summary>
/// <remarks>In the process-wide collection: one test reads /proc/self/smaps.</remarks>
[Collection(ProcessWideCollection.Name)]
public sealed unsafe class BaseHugePageBlockTests
{
    private static readonly nuint Huge = Pages.HugePageSize;

    // Maps blocks until one is huge; returns the blocks in mapping order.
    private static List<(nuint Address, nuint Size)> GrowUntilHuge(Base b, TestExtentHooks hooks)
    {
        while (b.HugeBlockCount == 0 && b.BlockCount < 10) Assert.True(b.Allocate(60 << 10) != null);
        var blocks = new List<(nuint, nuint)>(hooks.LiveMappings);
        blocks.Sort((x, y) => x.Item1.CompareTo(y.Item1));
        return blocks;
    }

    [Fact]
    public void The_first_blocks_stay_small_and_later_ones_are_whole_aligned_huge_pages()
    {
        if (!OperatingSystem.IsLinux() || !Thp.Available) return;
        var hooks = new TestExtentHooks(retain: true);
        using var b = new Base(hooks) { HugePageBlocks = true };
        GrowUntilHuge(b, hooks);

        Assert.Equal(Base.SmallBlocksBeforeHuge + 1, b.BlockCount);
        Assert.Equal(1, b.HugeBlockCount);
        int huge = 0;
        foreach ((nuint address, nuint size) in hooks.LiveMappings)
        {
            if (size < Huge) continue;
            huge++;
            Assert.Equal(0u, address % Huge);
            Assert.Equal(0u, size % Huge);
        }

        Assert.Equal(1, huge);
        // Three small blocks (64, 128 and 256 KiB) and one huge page.
        Assert.Equal((nuint)(448 << 10) + Huge, b.Mapped);
    }

    [Fact]
    public void Without_the_setting_no_block_is_huge()
    {
        var hooks = new TestExtentHooks(retain: true);
        using var b = new Base(hooks);
        for (int i = 0; i < 6; i++) Assert.True(b.Allocate(100_000) != null);
        Assert.True(b.BlockCount > Base.SmallBlocksBeforeHuge);
        Assert.Equal(0, b.HugeBlockCount);
        foreach ((_, nuint size) in hooks.LiveMappings) Assert.True(size < Huge, $"a block of {size} bytes");
    }

    [Fact]
    public void A_touch_of_a_huge_block_counts_its_whole_huge_page_resident()
    {
        if (!OperatingSystem.IsLinux() || !Thp.Available) return;
        var hooks = new TestExtentHooks(retain: true);
        using var b = new Base(hooks) { HugePageBlocks = true };
        GrowUntilHuge(b, hooks);
        nuint before = b.Resident;

        // The huge block is the emptiest: a request too big for the small ones lands there.
        Assert.True(b.Allocate(300 << 10) != null);

        Assert.Equal(1, b.HugeBlockCount);
        Assert.Equal(before, b.Resident);
        Assert.True(b.Resident >= Huge, $"resident {b.Resident} below one huge page");
    }

    [Fact]
    public void The_kernel_backs_a_huge_block_with_huge_pages()
    {
        if (!OperatingSystem.IsLinux() || !Thp.Available) return;
        using var b = new Base(DefaultExtentHooks.Unmapping) { HugePageBlocks = true };
        while (b.HugeBlockCount == 0) Assert.True(b.Allocate(60 << 10) != null);
        var p = (byte*)b.Allocate(1 << 20);
        Assert.True(p != null);
        new Span<byte>(p, 1 << 20).Fill(1);

        nuint start = (nuint)p & ~(Huge - 1);
        Assert.True(AnonHugePages.Measure(new List<(nuint, nuint)> { (start, Huge) }) > 0, "the huge block has no AnonHugePages");
    }
}
