using System;
using System.Buffers;
using System.Threading;

namespace Allocator;

/// <summary>
/// A <see cref="MemoryPool{T}"/> over an arena. The arena's size classes and thread caches do the
/// pooling of memory; this keeps the managed owners, so that renting and disposing allocate nothing
/// on the GC heap once enough owners are idle.
/// </summary>
/// <remarks>
/// Disposal in any order is defined. A disposed pool refuses <see cref="Rent"/>; its outstanding
/// owners stay usable and free their blocks when disposed. A reset or disposed arena makes its
/// outstanding owners unusable (<see cref="ObjectDisposedException"/>); disposing them then frees
/// nothing.
/// </remarks>
internal sealed unsafe class ArenaMemoryPool : MemoryPool<byte>
{
    // MemoryPool<byte>.Shared's size for Rent(-1).
    private const int DefaultBufferSize = 4096;

    // Idle owners: enough for the segments a few busy pipes keep out, small enough to scan when empty.
    private const int IdleSlots = 64;

    private readonly Arena _arena;
    private readonly ArenaMemoryOwner?[] _idle = new ArenaMemoryOwner?[IdleSlots];
    private readonly bool _reuse;
    private volatile bool _disposed;

    internal ArenaMemoryPool(Arena arena)
    {
        _arena = arena;
        // Debug checks must see a use after dispose: a reused owner would hand out another block instead.
        _reuse = !arena.HasDebugChecks;
    }

    /// <summary>The largest size <see cref="Rent"/> serves: the arena's largest class, as far as an <see cref="int"/> reaches.</summary>
    public override int MaxBufferSize => _arena.MaxSize >= int.MaxValue ? int.MaxValue : (int)_arena.MaxSize;

    /// <summary>
    /// Rents a block of at least <paramref name="minBufferSize"/> bytes (4096 for -1); its
    /// <see cref="IMemoryOwner{T}.Memory"/> spans the block's whole usable size.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The size is below -1 or above <see cref="MaxBufferSize"/>.</exception>
    /// <exception cref="ObjectDisposedException">The pool or its arena has been disposed.</exception>
    /// <exception cref="OutOfMemoryException">The arena could get no memory.</exception>
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize == -1) minBufferSize = DefaultBufferSize;
        else if ((uint)minBufferSize > (uint)MaxBufferSize)
            throw new ArgumentOutOfRangeException(nameof(minBufferSize), minBufferSize, $"A buffer size is -1 (the default) or between 0 and {MaxBufferSize}.");
        ObjectDisposedException.ThrowIf(_disposed, this);
        return RentOwner(minBufferSize);
    }

    /// <summary>Allocates a block of at least <paramref name="length"/> bytes and attaches it to an idle owner.</summary>
    internal ArenaMemoryOwner RentOwner(int length)
    {
        void* p = _arena.Allocate((nuint)Math.Max(length, 1));
        nuint usable = _arena.UsableSize(p);
        ArenaMemoryOwner? owner = TakeIdle();
        if (owner == null)
        {
            try
            {
                owner = new ArenaMemoryOwner(this, _arena);
            }
            catch
            {
                _arena.Free(p);
                throw;
            }
        }

        owner.Attach(p, usable >= int.MaxValue ? int.MaxValue : (int)usable, _arena.Generation);
        return owner;
    }

    /// <summary>Keeps a disposed owner for a later <see cref="Rent"/>, unless the pool is disposed or full.</summary>
    internal void Return(ArenaMemoryOwner owner)
    {
        if (!_reuse || _disposed) return;
        int start = Environment.CurrentManagedThreadId;
        for (int i = 0; i < IdleSlots; i++)
        {
            if (Interlocked.CompareExchange(ref _idle[(start + i) & (IdleSlots - 1)], owner, null) == null) return;
        }
    }

    // Threads start their scans at different slots, so they rarely contend for one.
    private ArenaMemoryOwner? TakeIdle()
    {
        if (!_reuse) return null;
        int start = Environment.CurrentManagedThreadId;
        for (int i = 0; i < IdleSlots; i++)
        {
            ref ArenaMemoryOwner? slot = ref _idle[(start + i) & (IdleSlots - 1)];
            if (slot != null && Interlocked.Exchange(ref slot, null) is { } owner) return owner;
        }

        return null;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        Array.Clear(_idle);
    }
}
