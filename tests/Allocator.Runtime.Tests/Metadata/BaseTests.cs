using System;
using System.Collections.Generic;
using Allocator.Os;
using Allocator.Tests.Infrastructure;

namespace Allocator.Tests.Metadata;

using Base = Allocator.Metadata.Base;
using Edata = Allocator.Metadata.Edata;

/// <summary>
/// The metadata allocator: ports of jemalloc 5.3's test/unit/base.c (reference section 9) that
/// apply to this Base, and its contract with the hooks (every block goes back on Dispose).
/// </summary>
public unsafe class BaseTests
{
    private const nuint Quantum = 16;
    private static readonly nuint Page = Pages.PageSize;

    private static bool IsZero(byte* p, nuint size)
    {
        for (nuint i = 0; i < size; i++)
            if (p[i] != 0) return false;
        return true;
    }

    [Fact]
    public void Allocated_grows_by_at_least_the_request_and_memory_is_zeroed()
    {
        var hooks = new TestExtentHooks(retain: true);
        using var b = new Base(hooks);
        nuint before = b.Allocated;

        var p = (byte*)b.Allocate(42);

        Assert.True(p != null);
        Assert.True(b.Allocated - before >= 42);
        Assert.True(IsZero(p, 42));
        Assert.Equal(1, hooks.DidAlloc); // the alloc hook is how a base gets memory
        Assert.Equal(hooks.MappedBytes, b.Mapped);
        Assert.True(b.Resident > 0 && b.Resident <= b.Mapped);
    }

    [Fact]
    public void Alignments_up_to_two_cache_lines_are_honoured_with_tight_packing()
    {
        using var b = new Base(new TestExtentHooks(retain: true));
        // base.c: p = alloc(1, a); q = alloc(a, a) must follow p by the minimal step; r = alloc(1, a) must follow q likewise.
        foreach (nuint a in new nuint[] { 1, 2, 4, 8, 16, 32, 64, 128, 256 })
        {
            var p = (byte*)b.Allocate(1, a);
            var q = (byte*)b.Allocate(a, a);
            var r = (byte*)b.Allocate(1, a);

            Assert.True(p != null && q != null && r != null);
            Assert.Equal(0u, (nuint)p % a);
            Assert.Equal(0u, (nuint)q % a);
            if (a >= Quantum)
            {
                Assert.Equal((nuint)(p + a), (nuint)q);
                Assert.Equal((nuint)(q + a), (nuint)r);
            }
            else
            {
                // jemalloc rounds these up to the quantum; packing them tighter is no worse.
                Assert.InRange((nuint)(q - p), a, Quantum);
                Assert.InRange((nuint)(r - q), a, Quantum);
            }
        }
    }

    [Fact]
    public void Exhausting_a_block_maps_a_new_one_while_the_first_block_still_serves_what_fits()
    {
        var hooks = new TestExtentHooks(retain: true);
        using var b = new Base(hooks);
        var first = (byte*)b.Allocate(Quantum, Quantum);
        (nuint blockStart, nuint blockSize) = Assert.Single(hooks.LiveMappings);
        nuint blockEnd = blockStart + blockSize;
        nuint cursor = (nuint)first + Quantum;

        // base.c: use up all but one quantum of the block.
        while (blockEnd - cursor > Quantum)
        {
            var p = (byte*)b.Allocate(Quantum, Quantum);
            Assert.Equal(cursor, (nuint)p);
            cursor += Quantum;
        }

        Assert.Equal(1, b.BlockCount);
        var q = (byte*)b.Allocate(Quantum + 1, Quantum);
        Assert.True(q != null);
        Assert.False((nuint)q >= blockStart && (nuint)q < blockEnd, "expected the allocation from a new block");
        Assert.Equal(2, b.BlockCount);

        var r = (byte*)b.Allocate(Quantum, Quantum);
        Assert.Equal(cursor, (nuint)r); // the first block's last quantum
    }

    [Theory]
    [InlineData(2 * 1024 * 1024)]
    [InlineData(4 * 1024 * 1024)]
    public void Huge_page_alignments_are_honoured(int alignment)
    {
        var hooks = new TestExtentHooks(retain: true);
        using var b = new Base(hooks);
        b.Allocate(Quantum);

        var p = (byte*)b.Allocate(Quantum, (nuint)alignment);
        var q = (byte*)b.Allocate(Quantum, (nuint)alignment);

        Assert.True(p != null && q != null);
        Assert.Equal(0u, (nuint)p % (nuint)alignment);
        Assert.Equal(0u, (nuint)q % (nuint)alignment);
        Assert.True(IsZero(p, Quantum) && IsZero(q, Quantum));
        p[0] = q[0] = 1;
    }

    [Theory]
    [InlineData(16)]
    [InlineData(512)]
    public void Every_size_near_a_block_boundary_is_served(int pages)
    {
        // Sizes whose block would end within a few bytes of a page boundary: a block sized without the
        // alignment padding after its header comes out a few bytes short.
        nuint top = (nuint)pages * Page;
        var failed = new List<nuint>();
        for (nuint size = top - 64; size <= top; size++)
        {
            var hooks = new TestExtentHooks(retain: true);
            using (var b = new Base(hooks))
            {
                var p = (byte*)b.Allocate(size);
                if (p == null) failed.Add(size);
                else p[size - 1] = 1;
            }

            Assert.Equal(0u, hooks.MappedBytes);
        }

        Assert.True(failed.Count == 0, $"Allocate returned null for sizes {string.Join(", ", failed)}");
    }

    [Fact]
    public void Dispose_returns_every_block_to_the_hooks_once()
    {
        var hooks = new TestExtentHooks(retain: true);
        var b = new Base(hooks);
        for (int i = 0; i < 6; i++) Assert.True(b.Allocate(100_000) != null);
        Assert.True(b.BlockCount >= 3);
        Assert.Equal(b.BlockCount, hooks.DidAlloc);
        Assert.Equal(b.Mapped, hooks.MappedBytes);

        b.Dispose();
        b.Dispose();

        Assert.Equal(0u, hooks.MappedBytes);
        Assert.Equal(hooks.DidAlloc, hooks.DidDestroy);
        Assert.Equal(0, hooks.CalledDalloc); // retaining hooks would refuse Dalloc; blocks must go through Destroy
        Assert.Empty(hooks.Anomalies);
        Assert.Equal(0u, b.Mapped);
        Assert.Throws<ObjectDisposedException>(() => b.Allocate(16));
    }

    [Fact]
    public void A_refusing_alloc_hook_makes_Allocate_return_null_and_maps_nothing()
    {
        var hooks = new TestExtentHooks(retain: true) { TryAlloc = false };
        using var b = new Base(hooks);

        Assert.True(b.Allocate(64) == null);
        Assert.Equal(0, b.BlockCount);
        Assert.Equal(0u, b.Mapped);

        hooks.TryAlloc = true;
        Assert.True(b.Allocate(64) != null);
        Assert.Equal(1, b.BlockCount);
    }

    [Theory]
    [InlineData(0, 16)]
    [InlineData(16, 0)]
    [InlineData(16, 24)]
    public void Zero_sizes_and_alignments_that_are_not_powers_of_two_are_rejected(int size, int alignment)
    {
        using var b = new Base(new TestExtentHooks(retain: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => b.Allocate((nuint)size, (nuint)alignment));
    }

    [Fact]
    public void AllocateEdata_gives_zeroed_128_aligned_structs_with_increasing_esn()
    {
        using var b = new Base(new TestExtentHooks(retain: true));
        Assert.Equal(128, sizeof(Edata));
        Assert.Equal(128, Base.EdataAlignment);
        b.Allocate(8); // misalign the cursor first

        ulong previousEsn = 0;
        nuint previous = 0;
        for (int i = 0; i < 64; i++)
        {
            Edata* e = b.AllocateEdata();
            Assert.True(e != null);
            Assert.Equal(0u, (nuint)e % 128);
            Assert.True((nuint)e >= previous + 128);
            Assert.True(e->Esn > previousEsn);
            ulong esn = e->Esn;
            e->Esn = 0;
            Assert.True(IsZero((byte*)e, 128));
            e->Esn = esn;
            previousEsn = esn;
            previous = (nuint)e;
        }
    }
}
