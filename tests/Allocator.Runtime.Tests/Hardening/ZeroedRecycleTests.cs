using System;
using Allocator.Hooks;

namespace Allocator.Tests.Hardening;

/// <summary>
/// Issue 20: a purge that reports success is no proof that its pages read as zero (on this
/// platform MADV_DONTNEED was seen to leave old bytes readable for microseconds after it returned),
/// so <c>AllocateZeroed</c> writes zeros into every recycled extent whatever its zeroed flag says.
/// </summary>
public sealed unsafe class ZeroedRecycleTests
{
    /// <summary>Retaining hooks whose forced purge says it discarded the pages but leaves them as they were.</summary>
    private sealed class UnseenPurgeHooks : IExtentHooks
    {
        private readonly DefaultExtentHooks _inner = DefaultExtentHooks.For(retain: true);
        public int UnseenPurges;

        public void* Alloc(void* newAddress, nuint size, nuint alignment, ref bool zero, ref bool commit, uint arenaIndex) =>
            _inner.Alloc(newAddress, size, alignment, ref zero, ref commit, arenaIndex);
        public bool Dalloc(void* address, nuint size, bool committed, uint arenaIndex) => _inner.Dalloc(address, size, committed, arenaIndex);
        public void Destroy(void* address, nuint size, bool committed, uint arenaIndex) => _inner.Destroy(address, size, committed, arenaIndex);
        public bool Commit(void* address, nuint size, nuint offset, nuint length, uint arenaIndex) => _inner.Commit(address, size, offset, length, arenaIndex);
        public bool Decommit(void* address, nuint size, nuint offset, nuint length, uint arenaIndex) => false;
        public bool PurgeLazy(void* address, nuint size, nuint offset, nuint length, uint arenaIndex) => false;

        public bool PurgeForced(void* address, nuint size, nuint offset, nuint length, uint arenaIndex)
        {
            UnseenPurges++;
            return true;
        }

        public bool Split(void* address, nuint size, nuint sizeA, nuint sizeB, bool committed, uint arenaIndex) => _inner.Split(address, size, sizeA, sizeB, committed, arenaIndex);
        public bool Merge(void* addressA, nuint sizeA, void* addressB, nuint sizeB, bool committed, uint arenaIndex) => _inner.Merge(addressA, sizeA, addressB, sizeB, committed, arenaIndex);
    }

    [Theory]
    [InlineData(64 << 10)]
    [InlineData(28 << 10)]
    [InlineData(1 << 20)]
    public void ZeroedBlockOnPurgedPagesIsWrittenNotTrusted(int size)
    {
        var hooks = new UnseenPurgeHooks();
        using var arena = Arena.Create(new ArenaOptions { Hooks = hooks, ThreadCache = false, BackgroundPurge = false });
        var old = (byte*)arena.Allocate((nuint)size);
        new Span<byte>(old, size).Fill(0xA5);
        arena.Free(old);
        // Straight to retained through the forced purge, which marks the extent zeroed.
        arena.Purge();
        Assert.True(hooks.UnseenPurges > 0, "the purge never reached the forced-purge hook");

        var p = (byte*)arena.AllocateZeroed((nuint)size);
        // The same pages came back: the zeroed flag set by that purge is what is on trial.
        Assert.Equal((nint)old, (nint)p);
        int firstNonZero = new ReadOnlySpan<byte>(p, size).IndexOfAnyExcept((byte)0);
        Assert.True(firstNonZero < 0, $"byte {firstNonZero} of a zeroed block is 0x{(firstNonZero < 0 ? 0 : p[firstNonZero]):x2}");
        arena.Free(p);
        arena.Validate();
    }
}
