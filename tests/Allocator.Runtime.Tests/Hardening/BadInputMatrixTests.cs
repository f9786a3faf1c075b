using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using Allocator.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Allocator.Tests.Hardening;

/// <summary>
/// Every public entry point that takes a pointer or a size, against every kind of bad value. Each
/// gets its documented result, and the arena validates afterwards with its live blocks intact.
/// </summary>
public sealed unsafe class BadInputMatrixTests : IDisposable
{
    private readonly Arena _arena = Arena.Create(new ArenaOptions { TimeProvider = new FakeTimeProvider(), ThreadCache = false });
    private readonly byte* _foreign = (byte*)NativeMemory.Alloc(4096);
    private readonly byte* _liveSmall;
    private readonly byte* _liveLarge;
    private readonly byte* _freedSmall;
    private readonly byte* _freedLarge;

    public BadInputMatrixTests()
    {
        _liveSmall = (byte*)_arena.Allocate(100);
        _liveLarge = (byte*)_arena.Allocate(50_000);
        new Span<byte>(_liveSmall, 100).Fill(0x5A);
        new Span<byte>(_liveLarge, 50_000).Fill(0xA5);
        _freedSmall = (byte*)_arena.Allocate(100);
        _freedLarge = (byte*)_arena.Allocate(50_000);
        // Keep a neighbor in the small slab so the freed region's slab stays live.
        _arena.Free(_freedSmall);
        _arena.Free(_freedLarge);
    }

    public void Dispose()
    {
        _arena.Dispose();
        NativeMemory.Free(_foreign);
    }

    private static string[] BadPointers() => new[] { "foreign", "interior-small", "interior-large", "freed-small", "freed-large", "misaligned", "stack", "kernel-half", "low", "other-arena" };

    public static TheoryData<string, bool, bool> BadPointersInEachConfiguration()
    {
        var data = new TheoryData<string, bool, bool>();
        foreach (string kind in BadPointers())
        {
            foreach (bool cache in new[] { false, true })
            {
                foreach (bool debug in new[] { false, true }) data.Add(kind, cache, debug);
            }
        }

        return data;
    }

    // What is caught later, at the flush of the thread's cache (Purge, a full cache bin, thread
    // exit), and not at the call: with a thread cache and no debug checks a sized free of a small
    // size is pushed into the cache without a lookup, and a free checks that the pointer starts a
    // region of a live slab, not that the region is allocated, so a second free of a small block
    // goes into the cache too. Until the flush an Allocate of that class can return the pointer.
    // Everything else is refused at the call, in every configuration.
    private static bool CaughtAtTheFlush(string entry, string kind, bool threadCache, bool debugChecks) =>
        threadCache && !debugChecks && (entry == "FreeSized" || entry == "Free" && kind == "freed-small");

    [Theory]
    [MemberData(nameof(BadPointersInEachConfiguration))]
    public void EveryPointerTakingEntryPointRefusesABadPointerAndChangesNothing(string kind, bool threadCache, bool debugChecks)
    {
        using var arena = Arena.Create(new ArenaOptions { TimeProvider = new FakeTimeProvider(), ThreadCache = threadCache, DebugChecks = debugChecks });
        using var other = Arena.Create(new ArenaOptions { TimeProvider = new FakeTimeProvider(), ThreadCache = threadCache, DebugChecks = debugChecks });
        byte* liveSmall = (byte*)arena.Allocate(100);
        byte* liveLarge = (byte*)arena.Allocate(50_000);
        new Span<byte>(liveSmall, 100).Fill(0x5A);
        new Span<byte>(liveLarge, 50_000).Fill(0xA5);
        byte* freedSmall = (byte*)arena.Allocate(100);
        byte* freedLarge = (byte*)arena.Allocate(50_000);
        byte* otherBlock = (byte*)other.Allocate(100);
        arena.Free(freedSmall);
        arena.Free(freedLarge);
        // The freed blocks back in their slab and extent cache, not in this thread's cache.
        arena.Purge();
        byte* onStack = stackalloc byte[64];
        byte* bad = kind switch
        {
            "foreign" => _foreign,
            "interior-small" => liveSmall + 16,
            "interior-large" => liveLarge + 4096,
            "freed-small" => freedSmall,
            "freed-large" => freedLarge,
            "misaligned" => liveSmall + 1,
            "stack" => onStack + 16,
            "kernel-half" => (byte*)unchecked((nint)0xFFFF_8000_0000_1000),
            "low" => (byte*)0x1000,
            "other-arena" => otherBlock,
            _ => throw new ArgumentException(kind),
        };
        var calls = new List<(string Name, Action Call)>
        {
            ("Free", () => arena.Free(bad)),
            ("FreeSized", () => arena.FreeSized(bad, 100)),
            ("UsableSize", () => arena.UsableSize(bad)),
            ("Reallocate", () => arena.Reallocate(bad, 200)),
        };
        string config = $"{kind} with the cache {(threadCache ? "on" : "off")} and debug checks {(debugChecks ? "on" : "off")}";
        foreach (var (name, call) in calls)
        {
            if (CaughtAtTheFlush(name, kind, threadCache, debugChecks))
            {
                // Taken into this thread's cache unchecked: the flush finds it, names it and drops it.
                call();
                var late = Assert.Throws<InvalidOperationException>(arena.Purge);
                Assert.True(late.Message.Contains($"0x{(nuint)bad:x}", StringComparison.Ordinal), $"the flush after {name}({config}) names the address: {late.Message}");
            }
            else
            {
                var ex = Assert.Throws<InvalidOperationException>(call);
                Assert.True(ex.Message.Contains($"0x{(nuint)bad:x}", StringComparison.Ordinal), $"{name}({config}) names the address: {ex.Message}");
            }

            arena.Purge();
            arena.Validate();
            LiveCounts.Expect(arena, new nuint[] { 100, 50_000 }, $"after {name}({config})");
        }

        Assert.True(new ReadOnlySpan<byte>(liveSmall, 100).IndexOfAnyExcept((byte)0x5A) < 0);
        Assert.True(new ReadOnlySpan<byte>(liveLarge, 50_000).IndexOfAnyExcept((byte)0xA5) < 0);
        arena.Validate();
        other.Purge();
        other.Validate();
        LiveCounts.Expect(other, new nuint[] { 100 }, $"the other arena after {config}");
    }

    [Fact]
    public void NullIsIgnoredByFreesAndAllocatesInReallocate()
    {
        _arena.Free(null);
        _arena.FreeSized(null, 100);
        void* p = _arena.Reallocate(null, 10);
        Assert.True(p != null);
        _arena.Free(p);
        Assert.Throws<InvalidOperationException>(() => _arena.UsableSize(null));
        _arena.Validate();
    }

    private static readonly ulong[] BadSizeValues =
    {
        ulong.MaxValue, ulong.MaxValue - 4095, (ulong)long.MaxValue + 1, 0x7000_0000_0000_0001, unchecked((ulong)-1L - 1),
    };

    public static TheoryData<ulong, bool, bool> BadSizes()
    {
        var data = new TheoryData<ulong, bool, bool>();
        foreach (ulong size in BadSizeValues)
        {
            foreach (bool cache in new[] { false, true })
            {
                foreach (bool debug in new[] { false, true }) data.Add(size, cache, debug);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BadSizes))]
    public void SizesBeyondTheLargestClassThrowOrReturnNullAndChangeNothing(ulong size, bool threadCache, bool debugChecks)
    {
        using var arena = Arena.Create(new ArenaOptions { TimeProvider = new FakeTimeProvider(), ThreadCache = threadCache, DebugChecks = debugChecks });
        byte* live = (byte*)arena.Allocate(100);
        new Span<byte>(live, 100).Fill(0x5A);
        long active = arena.GetStats().Active;
        nuint n = (nuint)size;
        Assert.Throws<ArgumentOutOfRangeException>(() => { arena.Allocate(n); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { arena.AllocateZeroed(n); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { arena.AllocateAligned(n, 64); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { arena.Reallocate(live, n); });
        Assert.True(arena.TryAllocate(n) == null);
        Assert.Equal(active, arena.GetStats().Active);
        Assert.True(new ReadOnlySpan<byte>(live, 100).IndexOfAnyExcept((byte)0x5A) < 0);
        arena.Purge();
        arena.Validate();
        LiveCounts.Expect(arena, new nuint[] { 100 }, $"after {size} bytes were refused");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(48)]
    [InlineData(ulong.MaxValue)]
    public void AlignmentsThatAreNotPowersOfTwoAreRefused(ulong alignment)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => { _arena.AllocateAligned(64, (nuint)alignment); });
        Assert.Contains("power of two", ex.Message);
        _arena.Validate();
    }

    [Fact]
    public void ZeroSizesAreServedAsTheSmallestClass()
    {
        void* a = _arena.Allocate(0);
        void* b = _arena.AllocateZeroed(0);
        void* c = _arena.AllocateAligned(0, 256);
        Assert.True(a != b && b != c);
        Assert.True(_arena.UsableSize(a) >= 1);
        Assert.Equal(0u, (uint)((nuint)c % 256));
        void* d = _arena.Reallocate(a, 0);
        _arena.Free(d);
        _arena.Free(b);
        _arena.Free(c);
        Span<int> empty = _arena.AllocateArray<int>(0);
        Assert.Equal(0, empty.Length);
        _arena.FreeArray(empty);
        using (var owner = _arena.Rent(0)) Assert.True(owner.Memory.Length >= 1, "a zero-length rent still gets the smallest block");
        Assert.Throws<ArgumentOutOfRangeException>(() => _arena.Rent(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => { _arena.AllocateArray<byte>(-5); });
        _arena.Validate();
    }

    [Fact]
    public void EveryEntryPointRefusesUseAfterDispose()
    {
        var arena = Arena.Create(new ArenaOptions { TimeProvider = new FakeTimeProvider() });
        void* p = arena.Allocate(10);
        arena.Dispose();
        Assert.Throws<ObjectDisposedException>(() => { arena.Allocate(10); });
        Assert.Throws<ObjectDisposedException>(() => { arena.TryAllocate(10); });
        Assert.Throws<ObjectDisposedException>(() => arena.Purge());
        Assert.Throws<ObjectDisposedException>(() => arena.Reset());
        Assert.Throws<ObjectDisposedException>(() => arena.Validate());
        Assert.ThrowsAny<InvalidOperationException>(() => arena.Free(p));
        arena.Dispose();
    }
}
