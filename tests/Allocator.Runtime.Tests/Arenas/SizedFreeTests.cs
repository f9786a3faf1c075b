using System;
using System.Collections.Generic;
using Microsoft.Extensions.Time.Testing;
using static Allocator.Tests.Arenas.LiteralPolicyTests;

namespace Allocator.Tests.Arenas;

/// <summary>
/// Sized free of aligned blocks: classed by size and alignment together, as the allocation was, and a
/// size of another class caught (at once with debug checks, at the flush without) with the arena intact.
/// </summary>
[Collection(Infrastructure.ProcessWideCollection.Name)]
public sealed unsafe class SizedFreeTests
{
    private static Arena NewArena(bool debugChecks = false) =>
        Arena.Create(new ArenaOptions { DebugChecks = debugChecks, TimeProvider = new FakeTimeProvider() });

    // Every alignment 2^0..2^12 for sizes 1..4096: every size for the small alignments, a stride
    // (prime, so it crosses every class boundary pattern) for the others to keep the run short.
    private static IEnumerable<(nuint Size, nuint Alignment)> SdallocxCases()
    {
        for (int lg = 0; lg <= 12; lg++)
        {
            nuint alignment = (nuint)1 << lg;
            int stride = lg <= 4 ? 1 : 7;
            for (int size = 1; size <= 4096; size += stride) yield return ((nuint)size, alignment);
            yield return (4096, alignment);
        }
    }

    private static void FreeEveryAlignmentSized(Arena arena, Action<nint, nuint, nuint> freeSized)
    {
        nuint lastAlignment = 0;
        var live = new List<(nint P, nuint Size, nuint Alignment)>();
        foreach (var (size, alignment) in SdallocxCases())
        {
            if (alignment != lastAlignment && live.Count > 0)
            {
                foreach (var (p, s, a) in live) freeSized(p, s, a);
                live.Clear();
                arena.Purge();
                arena.Validate();
            }

            lastAlignment = alignment;
            byte* block = (byte*)arena.AllocateAligned(size, alignment);
            Assert.Equal(0u, (nuint)block % alignment);
            block[0] = 1;
            block[size - 1] = 2;
            live.Add(((nint)block, size, alignment));
        }

        foreach (var (p, s, a) in live) freeSized(p, s, a);
        arena.Purge();
        arena.Validate();
        Assert.Equal(0, arena.GetStats().Allocated);
    }

    [Fact]
    public void EveryAlignmentFreedSizedWithItsAlignmentLeavesTheArenaValid()
    {
        using var arena = NewArena();
        FreeEveryAlignmentSized(arena, (p, size, alignment) => arena.FreeSized((void*)p, size, alignment));
    }

    [Fact]
    public void EveryAlignmentFreedSizedWithItsAlignmentThroughALiteralPolicy()
    {
        using var arena = new Arena<TestPolicy<NeverDecays>>();
        FreeEveryAlignmentSized(arena, (p, size, alignment) => arena.FreeSized((void*)p, size, alignment));
    }

    [Fact]
    public void EveryAlignmentFreedSizedWithItsAlignmentThroughTheThreadHandle()
    {
        using var arena = new Arena<TestPolicy<NeverDecays>>();
        FreeEveryAlignmentSized(arena, (p, size, alignment) => arena.GetThreadHandle().FreeSized((void*)p, size, alignment));
    }

    [Fact]
    public void EveryAlignmentFreedSizedWithItsAlignmentWithDebugChecks()
    {
        // Debug checks compare every sized free with the block's class, so a wrong classing throws here.
        using var arena = NewArena(debugChecks: true);
        FreeEveryAlignmentSized(arena, (p, size, alignment) => arena.FreeSized((void*)p, size, alignment));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(96)]
    public void AnAlignmentThatIsNoPowerOfTwoIsRefusedAndTheBlockStaysLive(int alignment)
    {
        using var arena = NewArena();
        void* p = arena.AllocateAligned(8, 64);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => arena.FreeSized(p, 8, (nuint)alignment));
        Assert.Equal("alignment", e.ParamName);
        arena.FreeSized(p, 8, 64);
        arena.Purge();
        arena.Validate();
        Assert.Equal(0, arena.GetStats().Allocated);
    }

    [Theory]
    [InlineData(64)]
    [InlineData(8192)]
    public void WithDebugChecksASizeOfAnotherClassIsCaughtAtTheFree(int alignment)
    {
        using var arena = NewArena(debugChecks: true);
        AssertCaughtAtTheFree(arena, (nuint)alignment, p => arena.FreeSized((void*)p, 1));
    }

    [Fact]
    public void WithDebugChecksASizeOfAnotherClassIsCaughtAtTheFreeThroughALiteralPolicy()
    {
        using var arena = new Arena<TestPolicy<Checked>>();
        AssertCaughtAtTheFree(arena, 64, p => arena.FreeSized((void*)p, 1));
    }

    [Fact]
    public void WithDebugChecksASizeOfAnotherClassIsCaughtAtTheFreeThroughTheThreadHandle()
    {
        using var arena = new Arena<TestPolicy<Checked>>();
        AssertCaughtAtTheFree(arena, 64, p => arena.GetThreadHandle().FreeSized((void*)p, 1));
    }

    private static void AssertCaughtAtTheFree(Arena arena, nuint alignment, Action<nint> wrongFree)
    {
        void* p = arena.AllocateAligned(1, alignment);
        ulong real = (ulong)arena.UsableSize(p);
        var e = Assert.Throws<InvalidOperationException>(() => wrongFree((nint)p));
        Assert.Contains($"0x{(nuint)p:x}", e.Message);
        Assert.Contains("FreeSized(", e.Message);
        Assert.Contains(", 1)", e.Message);
        Assert.Contains($"the {real}-byte class", e.Message);
        arena.Validate();

        // The block was not freed: it is still live and frees properly with its alignment.
        Assert.Equal((nuint)real, arena.UsableSize(p));
        arena.FreeSized(p, 1, alignment);
        arena.Purge();
        arena.Validate();
        Assert.Equal(0, arena.GetStats().Allocated);
    }

    [Theory]
    [InlineData(64)]
    [InlineData(8192)]
    public void WithoutDebugChecksASizeOfAnotherClassIsCaughtAtTheFlush(int alignment)
    {
        using var arena = NewArena();
        AssertCaughtAtTheFlush(arena, (nuint)alignment, p => arena.FreeSized((void*)p, 1));
    }

    [Fact]
    public void WithoutDebugChecksASizeOfAnotherClassIsCaughtAtTheFlushThroughALiteralPolicy()
    {
        using var arena = new Arena<TestPolicy<NeverDecays>>();
        AssertCaughtAtTheFlush(arena, 64, p => arena.FreeSized((void*)p, 1));
    }

    [Fact]
    public void WithoutDebugChecksASizeOfAnotherClassIsCaughtAtTheFlushThroughTheThreadHandle()
    {
        using var arena = new Arena<TestPolicy<NeverDecays>>();
        AssertCaughtAtTheFlush(arena, 8192, p => arena.GetThreadHandle().FreeSized((void*)p, 1));
    }

    private static void AssertCaughtAtTheFlush(Arena arena, nuint alignment, Action<nint> wrongFree)
    {
        // Neighbours in the 8-byte class the misfiled block is pushed among; they must still be freed.
        var others = new List<nint>();
        for (int i = 0; i < 5; i++) others.Add((nint)arena.Allocate(8));
        void* p = arena.AllocateAligned(1, alignment);
        ulong real = (ulong)arena.UsableSize(p);
        foreach (nint o in others) arena.FreeSized((void*)o, 8);
        wrongFree((nint)p);

        var e = Assert.Throws<InvalidOperationException>(arena.Purge);
        Assert.Contains($"0x{(nuint)p:x}", e.Message);
        Assert.Contains("8-byte class", e.Message);
        Assert.Contains($"the {real}-byte class", e.Message);

        // The block went back to its own class, and the others to theirs.
        arena.Validate();
        arena.Purge();
        arena.Validate();
        Assert.Equal(0, arena.GetStats().Allocated);
    }

    [Fact]
    public void AMisfiledBlockIsCaughtWhenAFullCacheBinFlushesAndTheFreeInProgressIsKept()
    {
        using var arena = NewArena();
        void* p = arena.AllocateAligned(1, 64);
        arena.FreeSized(p, 1);

        // Sized frees of 8-byte blocks fill that cache bin until it flushes its older half, the
        // misfiled block among them; the free that triggered the flush still lands in the cache.
        var blocks = new List<nint>();
        for (int i = 0; i < 10_000; i++) blocks.Add((nint)arena.Allocate(8));
        InvalidOperationException? caught = null;
        foreach (nint b in blocks)
        {
            try
            {
                arena.FreeSized((void*)b, 8);
            }
            catch (InvalidOperationException e)
            {
                Assert.Null(caught);
                caught = e;
            }
        }

        Assert.NotNull(caught);
        Assert.Contains($"0x{(nuint)p:x}", caught.Message);
        arena.Purge();
        arena.Validate();
        Assert.Equal(0, arena.GetStats().Allocated);
    }
}
