using System;
using System.Buffers;
using System.Threading;

namespace Allocator;

/// <summary>
/// One rented block of arena memory as <see cref="Memory{T}"/>. Disposing it frees the block and
/// hands the owner back to its pool, which gives it to a later <c>Rent</c>: like an array returned
/// to <see cref="ArrayPool{T}"/>, an owner must not be used after it is disposed (with debug checks
/// on, owners are never reused, so every such use throws <see cref="ObjectDisposedException"/>).
/// </summary>
internal sealed unsafe class ArenaMemoryOwner : MemoryManager<byte>
{
    private readonly ArenaMemoryPool _pool;
    private readonly Arena _arena;
    private nint _pointer;
    private int _length;

    // The arena's generation when the block was allocated: after a Reset or Dispose the block is
    // gone, and its address may already belong to a block of the new generation.
    private long _generation;

    internal ArenaMemoryOwner(ArenaMemoryPool pool, Arena arena)
    {
        _pool = pool;
        _arena = arena;
    }

    /// <summary>Gives an idle owner a freshly allocated block of <paramref name="length"/> usable bytes.</summary>
    internal void Attach(void* pointer, int length, long generation)
    {
        _length = length;
        _generation = generation;
        Volatile.Write(ref _pointer, (nint)pointer);
    }

    /// <inheritdoc/>
    public override Memory<byte> Memory
    {
        get
        {
            ThrowIfUnusable();
            return CreateMemory(_length);
        }
    }

    /// <inheritdoc/>
    public override Span<byte> GetSpan()
    {
        ThrowIfUnusable();
        return new Span<byte>((void*)_pointer, _length);
    }

    /// <inheritdoc/>
    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ThrowIfUnusable();
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)elementIndex, (uint)_length, nameof(elementIndex));
        // Native memory never moves: nothing to pin, and no Unpin call to expect.
        return new MemoryHandle((byte*)_pointer + elementIndex);
    }

    /// <inheritdoc/>
    public override void Unpin()
    {
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        nint p = Interlocked.Exchange(ref _pointer, 0);
        if (p == 0) return;
        // A reset or disposed arena has freed the block already; freeing it again could free a block
        // of the new generation at the same address.
        if (_arena.Generation == _generation) _arena.FreeSized((void*)p, (nuint)_length);
        _pool.Return(this);
    }

    private void ThrowIfUnusable()
    {
        if (_pointer == 0)
            throw new ObjectDisposedException(nameof(ArenaMemoryOwner), "This buffer was disposed and its block returned to the arena.");
        if (_arena.Generation != _generation)
            throw new ObjectDisposedException(nameof(ArenaMemoryOwner), $"Arena {_arena.Index} was reset or disposed after this buffer was rented; its block is gone.");
    }
}
