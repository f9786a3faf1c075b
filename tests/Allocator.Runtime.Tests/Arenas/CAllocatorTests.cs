using System;
using Allocator.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Allocator.Tests.Arenas;

public sealed unsafe class CAllocatorTests
{
    private static Arena NewArena() => Arena.Create(new ArenaOptions { TimeProvider = new FakeTimeProvider(), ThreadCache = false });

    [Fact]
    public void TheCFunctionsThroughFunctionPointersKeepCSemantics()
    {
        delegate*<Arena, nuint, void*> malloc = &CAllocator.Malloc;
        delegate*<Arena, nuint, nuint, void*> calloc = &CAllocator.Calloc;
        delegate*<Arena, void*, nuint, void*> realloc = &CAllocator.Realloc;
        delegate*<Arena, void*, void> free = &CAllocator.Free;
        delegate*<Arena, void*, nuint> usable = &CAllocator.UsableSize;
        delegate*<Arena, nuint, nuint, void*> alignedAlloc = &CAllocator.AlignedAlloc;
        using Arena arena = NewArena();

        byte* p = (byte*)malloc(arena, 100);
        Assert.True(p != null);
        Assert.Equal(112u, (uint)usable(arena, p));
        p[0] = 9;
        p = (byte*)realloc(arena, p, 5000);
        Assert.Equal(9, p[0]);
        Assert.Equal(5120u, (uint)usable(arena, p));
        free(arena, p);
        free(arena, null);
        Assert.Equal(0u, (uint)usable(arena, null));

        byte* fresh = (byte*)realloc(arena, null, 10);
        Assert.True(fresh != null);
        free(arena, fresh);

        byte* zeroed = (byte*)calloc(arena, 10, 100);
        for (int i = 0; i < 1000; i++) Assert.Equal(0, zeroed[i]);
        free(arena, zeroed);
        Assert.True(calloc(arena, nuint.MaxValue / 2, 3) == null);
        // 2^33 * 2^31 wraps to 0 in nuint: unchecked, it would allocate a 1-byte block.
        Assert.True(calloc(arena, (nuint)1 << 33, (nuint)1 << 31) == null);
        Assert.True(malloc(arena, nuint.MaxValue) == null);
        void* block = malloc(arena, 64);
        Assert.True(realloc(arena, block, nuint.MaxValue) == null);
        free(arena, block);

        void* aligned = alignedAlloc(arena, 4096, 100);
        Assert.Equal(0u, (uint)((nuint)aligned % 4096));
        free(arena, aligned);
        Assert.True(alignedAlloc(arena, 48, 100) == null);
        Assert.Equal(0, arena.GetStats().Allocated);
        arena.Validate();

        arena.Dispose();
        Assert.True(malloc(arena, 8) == null);
    }

    internal static int FreeForeignPointer()
    {
        Arena arena = NewArena();
        long local = 0;
        CAllocator.Free(arena, &local);
        return 0;
    }

    [Fact]
    public void FreeingAPointerTheArenaDoesNotOwnEndsTheProcessNamingTheAddress()
    {
        ChildResult r = ChildProcess.Run(FreeForeignPointer);
        Assert.Equal(ChildResult.SigAbrtExitCode, r.ExitCode);
        Assert.Matches("free\\(\\): invalid pointer 0x[0-9a-f]+", r.StandardError + r.StandardOutput);
    }
}
