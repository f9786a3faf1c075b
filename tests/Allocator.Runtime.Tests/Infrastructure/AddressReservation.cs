using System;
using Allocator.Os;

namespace Allocator.Tests.Infrastructure;

/// <summary>
/// A private stretch of address space that hands out mappings at addresses fixed by the order of
/// the requests alone: each request takes the next free address above the last one (aligned as
/// asked), and what is given back stays reserved and is never handed out again. Two runs that
/// make the same requests therefore get the same addresses, whatever else the process maps, so
/// which extents are adjacent (and so what merges and splits) is the same in both.
/// </summary>
/// <remarks>
/// The whole range is mapped inaccessible and unreserved at construction; mappings are made over
/// it with MAP_FIXED, which is safe because nothing else can map there. Released ranges are
/// mapped inaccessible again, so the kernel never reuses them either.
/// </remarks>
public sealed unsafe class AddressReservation : IDisposable
{
    private readonly byte* _start;
    private readonly nuint _size;
    private readonly System.Threading.Lock _lock = new();
    private nuint _next;
    private bool _disposed;

    /// <summary>Reserves 4 GiB of address space (nothing committed).</summary>
    public AddressReservation()
        : this((nuint)1 << 32)
    {
    }

    /// <summary>Reserves <paramref name="size"/> bytes (address space only, nothing committed).</summary>
    public AddressReservation(nuint size)
    {
        _size = size;
        void* p = LibC.Mmap(null, size, LibC.ProtNone, LibC.MapPrivate | LibC.MapAnonymous | LibC.MapNoReserve, -1, 0);
        if (p == LibC.MapFailed) throw new OutOfMemoryException($"could not reserve {size} bytes of address space");
        _start = (byte*)p;
    }

    /// <summary>Whether <paramref name="address"/> lies in the reservation.</summary>
    public bool Contains(void* address) => (byte*)address >= _start && (byte*)address < _start + _size;

    /// <summary>
    /// Maps <paramref name="size"/> bytes at the next address aligned to <paramref name="alignment"/>,
    /// or exactly at <paramref name="at"/> when that is not below the next free address; read-write
    /// when <paramref name="commit"/>, inaccessible otherwise. Null when the reservation is used up
    /// or <paramref name="at"/> lies below what was handed out.
    /// </summary>
    public void* Map(void* at, nuint size, nuint alignment, bool commit)
    {
        lock (_lock)
        {
            if (_disposed) return null;
            nuint align = alignment < Pages.PageSize ? Pages.PageSize : alignment;
            nuint offset;
            if (at != null)
            {
                if (!Contains(at) || (nuint)((byte*)at - _start) < _next) return null;
                offset = (nuint)((byte*)at - _start);
            }
            else
            {
                nuint address = ((nuint)(_start + _next) + align - 1) & ~(align - 1);
                offset = address - (nuint)_start;
            }

            if (offset + size > _size || offset + size < offset) return null;
            int protection = commit ? LibC.ProtReadWrite : LibC.ProtNone;
            int flags = LibC.MapPrivate | LibC.MapAnonymous | LibC.MapFixed | (commit ? 0 : LibC.MapNoReserve);
            void* p = LibC.Mmap(_start + offset, size, protection, flags, -1, 0);
            if (p == LibC.MapFailed) return null;
            _next = offset + size;
            return p;
        }
    }

    /// <summary>Gives a range back: its pages are discarded and it stays reserved, never handed out again.</summary>
    public bool Release(void* address, nuint size)
    {
        lock (_lock)
        {
            if (_disposed || !Contains(address)) return false;
            void* p = LibC.Mmap(address, size, LibC.ProtNone, LibC.MapPrivate | LibC.MapAnonymous | LibC.MapFixed | LibC.MapNoReserve, -1, 0);
            return p != LibC.MapFailed;
        }
    }

    /// <summary>Unmaps the whole reservation.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            LibC.Munmap(_start, _size);
        }
    }
}
