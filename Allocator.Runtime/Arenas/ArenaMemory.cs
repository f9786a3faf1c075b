using System;
using System.Buffers;
using System.Threading;

namespace Allocator;

/// <summary>A block of arena memory as <see cref="Memory{T}"/>; disposing it frees the block.</summary>
internal sealed unsafe class ArenaMemoryOwner : MemoryManager<byte>
{
    private readonly Arena _arena;
    private readonly int _length;
    private nint _pointer;

    public ArenaMemoryOwner(Arena arena, int length)
    {
        _arena = arena;
        _length = length;
        _pointer = (nint)arena.Allocate((nuint)Math.Max(length, 1));
    }

    public override Span<byte> GetSpan()
    {
        ObjectDisposedException.ThrowIf(_pointer == 0, this);
        return new Span<byte>((void*)_pointer, _length);
    }

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ObjectDisposedException.ThrowIf(_pointer == 0, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)elementIndex, (uint)_length, nameof(elementIndex));
        // Native memory never moves: nothing to pin.
        return new MemoryHandle((byte*)_pointer + elementIndex);
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        nint p = Interlocked.Exchange(ref _pointer, 0);
        if (p != 0) _arena.Free((void*)p);
    }
}

/// <summary>A <see cref="MemoryPool{T}"/> over an arena.</summary>
internal sealed class ArenaMemoryPool : MemoryPool<byte>
{
    private readonly Arena _arena;

    public ArenaMemoryPool(Arena arena) => _arena = arena;

    public override int MaxBufferSize => int.MaxValue;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1) => _arena.Rent(minBufferSize < 0 ? 4096 : minBufferSize);

    protected override void Dispose(bool disposing)
    {
    }
}
