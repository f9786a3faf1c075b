using System;
using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;

namespace Allocator.Tests.Arenas;

public sealed class ArenaMemoryPoolTests
{
    // Without a thread cache every freed block is back in its bin at once, so Allocated says
    // exactly what is still rented.
    private static Arena NewArena(bool threadCache = false, bool debugChecks = false) =>
        Arena.Create(new ArenaOptions { TimeProvider = new FakeTimeProvider(), ThreadCache = threadCache, DebugChecks = debugChecks });

    private static unsafe void* AddressOf(IMemoryOwner<byte> owner)
    {
        using MemoryHandle h = owner.Memory.Pin();
        return h.Pointer;
    }

    [Fact]
    public unsafe void RentWithoutASizeRentsTheBclDefaultOf4096Bytes()
    {
        using Arena arena = NewArena();
        using MemoryPool<byte> pool = arena.AsMemoryPool();
        using (IMemoryOwner<byte> owner = pool.Rent())
        {
            Assert.Equal(4096, owner.Memory.Length);
            Assert.Equal(4096u, (uint)arena.UsableSize(AddressOf(owner)));
        }

        using (IMemoryOwner<byte> owner = pool.Rent(-1)) Assert.Equal(4096, owner.Memory.Length);
        Assert.Equal(0, arena.GetStats().Allocated);
    }

    [Fact]
    public unsafe void RentedMemorySpansTheWholeUsableSizeOfABlockAtLeastAsLargeAsTheRequest()
    {
        using Arena arena = NewArena();
        using MemoryPool<byte> pool = arena.AsMemoryPool();
        foreach (int size in new[] { 0, 1, 7, 8, 9, 100, 200, 4095, 4096, 4097, 5000, 14_337, 65_536, 100_000, 1 << 20, (1 << 20) + 1 })
        {
            using IMemoryOwner<byte> owner = pool.Rent(size);
            int length = owner.Memory.Length;
            Assert.True(length >= size, $"Rent({size}) gave {length} bytes");
            Assert.Equal((nuint)length, arena.UsableSize(AddressOf(owner)));
            owner.Memory.Span.Fill(0xA5);
            Assert.Equal(0xA5, owner.Memory.Span[length - 1]);
        }

        // The arena's own Rent gives the same shape of block.
        using (IMemoryOwner<byte> owner = arena.Rent(300)) Assert.Equal(320, owner.Memory.Length);
        Assert.Equal(0, arena.GetStats().Allocated);
        arena.Validate();
    }

    [Theory]
    [InlineData(-2)]
    [InlineData(-4096)]
    [InlineData(int.MinValue)]
    public void SizesBelowMinusOneThrowNamingTheArgumentAndRentNothing(int size)
    {
        using Arena arena = NewArena();
        using MemoryPool<byte> pool = arena.AsMemoryPool();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(size));
        Assert.Equal("minBufferSize", e.ParamName);
        // The arena's own Rent has no default size: -1 is as invalid as any other negative length.
        Assert.Throws<ArgumentOutOfRangeException>(() => arena.Rent(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => arena.Rent(size));
        Assert.Equal(0, arena.GetStats().Allocated);
        arena.Validate();
    }

    [Fact]
    public void MaxBufferSizeIsTheArenasLargestClassAsFarAsAnIntReachesAndCanBeRented()
    {
        using Arena arena = NewArena();
        using MemoryPool<byte> pool = arena.AsMemoryPool();
        Assert.Equal((int)Math.Min(arena.MaxSize, int.MaxValue), pool.MaxBufferSize);

        // The largest buffer is reserved, not touched: only the pages written below become resident.
        using (IMemoryOwner<byte> owner = pool.Rent(pool.MaxBufferSize))
        {
            Assert.Equal(pool.MaxBufferSize, owner.Memory.Length);
            owner.Memory.Span[0] = 1;
            owner.Memory.Span[pool.MaxBufferSize - 1] = 2;
        }

        Assert.Equal(0, arena.GetStats().Allocated);
        arena.Validate();
    }

    public enum Disposable
    {
        Owner,
        Pool,
        Arena,
    }

    [Theory]
    [InlineData(Disposable.Owner, Disposable.Pool, Disposable.Arena)]
    [InlineData(Disposable.Owner, Disposable.Arena, Disposable.Pool)]
    [InlineData(Disposable.Pool, Disposable.Owner, Disposable.Arena)]
    [InlineData(Disposable.Pool, Disposable.Arena, Disposable.Owner)]
    [InlineData(Disposable.Arena, Disposable.Owner, Disposable.Pool)]
    [InlineData(Disposable.Arena, Disposable.Pool, Disposable.Owner)]
    public void DisposingOwnerPoolAndArenaInAnyOrderFreesTheBlockOnceAndRefusesLaterUse(Disposable first, Disposable second, Disposable third)
    {
        Arena arena = NewArena();
        MemoryPool<byte> pool = arena.AsMemoryPool();
        IMemoryOwner<byte> owner = pool.Rent(100);
        owner.Memory.Span.Fill(7);
        bool ownerGone = false, poolGone = false, arenaGone = false;
        foreach (Disposable d in new[] { first, second, third })
        {
            switch (d)
            {
                case Disposable.Owner:
                    owner.Dispose();
                    ownerGone = true;
                    break;
                case Disposable.Pool:
                    pool.Dispose();
                    poolGone = true;
                    break;
                default:
                    arena.Dispose();
                    arenaGone = true;
                    break;
            }

            // Disposing twice is harmless, in every state.
            if (ownerGone) owner.Dispose();
            if (poolGone) pool.Dispose();
            if (arenaGone) arena.Dispose();

            if (ownerGone || arenaGone)
            {
                Assert.Throws<ObjectDisposedException>(() => owner.Memory);
            }
            else
            {
                // A disposed pool leaves the buffers rented from it alone.
                Assert.Equal(100 * 7, Sum(owner.Memory.Span[..100]));
            }

            if (poolGone || arenaGone) Assert.Throws<ObjectDisposedException>(() => pool.Rent(10));
            if (!arenaGone)
            {
                Assert.Equal(ownerGone ? 0 : 112, arena.GetStats().Allocated);
                arena.Validate();
            }
        }

        arena.Dispose();
    }

    [Fact]
    public void AnOwnerOfADisposedArenaFreesNothingIntoTheArenaAfterIt()
    {
        Arena arena = NewArena();
        IMemoryOwner<byte> stale = arena.Rent(100);
        arena.Dispose();
        // The next arena may well get the same index and reuse the same addresses.
        using Arena next = NewArena();
        using IMemoryOwner<byte> fresh = next.Rent(100);
        stale.Dispose();
        Assert.Equal(112, next.GetStats().Allocated);
        Assert.Equal(112, fresh.Memory.Length);
        next.Validate();
    }

    private static int Sum(ReadOnlySpan<byte> bytes)
    {
        int sum = 0;
        foreach (byte b in bytes) sum += b;
        return sum;
    }

    [Fact]
    public unsafe void AnOwnerRentedBeforeAResetNeitherServesNorFreesTheBlockNowAtItsAddress()
    {
        using Arena arena = NewArena();
        using MemoryPool<byte> pool = arena.AsMemoryPool();
        IMemoryOwner<byte> stale = pool.Rent(100);
        void* old = AddressOf(stale);
        arena.Reset();
        void* current = arena.Allocate(100);
        // The reset gave the same address to a block of the new generation.
        Assert.True(current == old);
        var e = Assert.Throws<ObjectDisposedException>(() => stale.Memory);
        Assert.Contains("reset or disposed", e.Message);
        stale.Dispose();
        Assert.Equal(112u, (uint)arena.UsableSize(current));
        Assert.Equal(112, arena.GetStats().Allocated);
        arena.Validate();
        arena.Free(current);

        // The pool still works after the reset.
        using (IMemoryOwner<byte> owner = pool.Rent(100)) owner.Memory.Span.Fill(1);
        Assert.Equal(0, arena.GetStats().Allocated);
    }

    [Fact]
    public void WithDebugChecksADisposedOwnerIsNeverReusedSoEveryUseAfterDisposeThrows()
    {
        using Arena arena = NewArena(debugChecks: true);
        using MemoryPool<byte> pool = arena.AsMemoryPool();
        IMemoryOwner<byte> first = pool.Rent(64);
        Memory<byte> kept = first.Memory;
        first.Dispose();
        IMemoryOwner<byte> second = pool.Rent(64);
        Assert.NotSame(first, second);
        // A Memory<byte> taken before the dispose, and the owner itself, still refer to the dead block.
        Assert.Throws<ObjectDisposedException>(() => kept.Span.Length);
        Assert.Throws<ObjectDisposedException>(() => kept.Pin());
        Assert.Throws<ObjectDisposedException>(() => first.Memory);
        first.Dispose();
        Assert.Equal(64, arena.GetStats().Allocated);
        second.Dispose();
        Assert.Equal(0, arena.GetStats().Allocated);
        arena.Validate();
    }

    [Fact]
    public void WithoutDebugChecksADisposedOwnerRefusesUseUntilTheNextRentTakesItBack()
    {
        using Arena arena = NewArena();
        using MemoryPool<byte> pool = arena.AsMemoryPool();
        IMemoryOwner<byte> first = pool.Rent(64);
        first.Dispose();
        Assert.Throws<ObjectDisposedException>(() => first.Memory);
        Assert.Throws<ObjectDisposedException>(() => first.Memory.Span.Length);
        first.Dispose();
        Assert.Equal(0, arena.GetStats().Allocated);

        using IMemoryOwner<byte> second = pool.Rent(64);
        Assert.Same(first, second);
        Assert.Equal(64, second.Memory.Length);
        var manager = Assert.IsAssignableFrom<MemoryManager<byte>>(second);
        Assert.Throws<ArgumentOutOfRangeException>(() => manager.Pin(65));
        arena.Validate();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void RentingAndDisposingInASteadyStateAllocatesNothingOnTheGcHeap(bool throughArenaRent)
    {
        using Arena arena = NewArena(threadCache: true);
        using MemoryPool<byte> pool = arena.AsMemoryPool();
        var owners = new IMemoryOwner<byte>[16];
        void Round()
        {
            for (int i = 0; i < owners.Length; i++)
            {
                int size = 64 << (i % 11);
                owners[i] = throughArenaRent ? arena.Rent(size) : pool.Rent(size);
                owners[i].Memory.Span[^1] = (byte)i;
            }

            for (int i = owners.Length - 1; i >= 0; i--) owners[i].Dispose();
        }

        for (int warm = 0; warm < 3; warm++) Round();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 20_000; round++) Round();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        arena.Validate();
    }

    // A pipe between a writer and a reader thread: the writer rents segments from the pool, the
    // reader returns them, so every block is allocated on one thread and freed on the other.
    [Theory]
    [InlineData(true, 1024)]
    [InlineData(false, 64)]
    public async Task APipeOnThePoolMovesEveryByteIntactBetweenTwoThreads(bool threadCache, int mebibytes)
    {
        const int Period = 65_521;
        const int MaxWrite = 20_000;
        long total = (long)mebibytes << 20;
        var pattern = new byte[Period + MaxWrite];
        new Random(17).NextBytes(pattern.AsSpan(0, Period));
        pattern.AsSpan(0, MaxWrite).CopyTo(pattern.AsSpan(Period));

        using Arena arena = NewArena(threadCache);
        using MemoryPool<byte> pool = arena.AsMemoryPool();
        var pipe = new Pipe(new PipeOptions(pool, useSynchronizationContext: false));

        Task writing = Task.Run(async () =>
        {
            var sizes = new Random(5);
            long written = 0;
            while (written < total)
            {
                int n = (int)Math.Min(sizes.Next(1, MaxWrite), total - written);
                Memory<byte> m = pipe.Writer.GetMemory(n);
                pattern.AsSpan((int)(written % Period), n).CopyTo(m.Span);
                pipe.Writer.Advance(n);
                written += n;
                await pipe.Writer.FlushAsync();
            }

            await pipe.Writer.CompleteAsync();
        });

        Task<long> reading = Task.Run(async () =>
        {
            long read = 0;
            while (true)
            {
                ReadResult r = await pipe.Reader.ReadAsync();
                foreach (ReadOnlyMemory<byte> segment in r.Buffer)
                {
                    ReadOnlySpan<byte> s = segment.Span;
                    while (s.Length > 0)
                    {
                        int n = Math.Min(s.Length, MaxWrite);
                        if (!s[..n].SequenceEqual(pattern.AsSpan((int)(read % Period), n)))
                            throw new InvalidOperationException($"the bytes at {read} differ from what was written");
                        read += n;
                        s = s[n..];
                    }
                }

                pipe.Reader.AdvanceTo(r.Buffer.End);
                if (r.IsCompleted) break;
            }

            await pipe.Reader.CompleteAsync();
            return read;
        });

        await writing;
        Assert.Equal(total, await reading);
        if (!threadCache) Assert.Equal(0, arena.GetStats().Allocated);
        arena.Validate();
    }
}
