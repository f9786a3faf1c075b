using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
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

    public static TheoryData<string> BadPointers() => new() { "foreign", "interior-small", "interior-large", "freed-small", "freed-large", "misaligned", "stack", "kernel-half", "low" };

    private byte* Pointer(string kind, byte* stack) => kind switch
    {
        "foreign" => _foreign,
        "interior-small" => _liveSmall + 16,
        "interior-large" => _liveLarge + 4096,
        "freed-small" => _freedSmall,
        "freed-large" => _freedLarge,
        "misaligned" => _liveSmall + 1,
        "stack" => stack,
        "kernel-half" => (byte*)unchecked((nint)0xFFFF_8000_0000_1000),
        "low" => (byte*)0x1000,
        _ => throw new ArgumentException(kind),
    };

    [Theory]
    [MemberData(nameof(BadPointers))]
    public void EveryPointerTakingEntryPointRefusesABadPointerAndChangesNothing(string kind)
    {
        byte* onStack = stackalloc byte[64];
        byte* bad = Pointer(kind, onStack + 16);
        var calls = new List<(string Name, Action Call)>
        {
            ("Free", () => _arena.Free(bad)),
            ("FreeSized", () => _arena.FreeSized(bad, 100)),
            ("UsableSize", () => _arena.UsableSize(bad)),
            ("Reallocate", () => _arena.Reallocate(bad, 200)),
        };
        foreach (var (name, call) in calls)
        {
            var ex = Assert.Throws<InvalidOperationException>(call);
            Assert.True(ex.Message.Contains($"0x{(nuint)bad:x}", StringComparison.Ordinal), $"{name}({kind}) names the address: {ex.Message}");
        }

        Assert.True(new ReadOnlySpan<byte>(_liveSmall, 100).IndexOfAnyExcept((byte)0x5A) < 0);
        Assert.True(new ReadOnlySpan<byte>(_liveLarge, 50_000).IndexOfAnyExcept((byte)0xA5) < 0);
        _arena.Validate();
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

    public static TheoryData<ulong> BadSizes() => new()
    {
        ulong.MaxValue, ulong.MaxValue - 4095, (ulong)long.MaxValue + 1, 0x7000_0000_0000_0001, unchecked((ulong)-1L - 1),
    };

    [Theory]
    [MemberData(nameof(BadSizes))]
    public void SizesBeyondTheLargestClassThrowOrReturnNullAndChangeNothing(ulong size)
    {
        long active = _arena.GetStats().Active;
        nuint n = (nuint)size;
        Assert.Throws<ArgumentOutOfRangeException>(() => { _arena.Allocate(n); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { _arena.AllocateZeroed(n); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { _arena.AllocateAligned(n, 64); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { _arena.Reallocate(_liveSmall, n); });
        Assert.True(_arena.TryAllocate(n) == null);
        Assert.Equal(active, _arena.GetStats().Active);
        Assert.True(new ReadOnlySpan<byte>(_liveSmall, 100).IndexOfAnyExcept((byte)0x5A) < 0);
        _arena.Validate();
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
