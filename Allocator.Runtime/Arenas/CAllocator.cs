using System;
using System.ComponentModel;

namespace Allocator;

/// <summary>
/// malloc's family over an arena with C semantics, for native libraries that take allocator callbacks
/// (a generated arena's <c>Native</c> class forwards its unmanaged entry points here): null on
/// failure and never an exception, <c>Free(null)</c> does nothing, <c>Realloc(null, n)</c> allocates,
/// and a pointer the arena does not own ends the process naming the address, as glibc's free does
/// (unwinding a managed exception through native frames is not possible).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Advanced)]
public static unsafe class CAllocator
{
    /// <summary>malloc: <paramref name="size"/> bytes (at least 1), or null.</summary>
    public static void* Malloc(Arena arena, nuint size)
    {
        try
        {
            return arena.TryAllocate(size == 0 ? 1 : size);
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }

    /// <summary>calloc: <paramref name="count"/> × <paramref name="size"/> zeroed bytes, or null (also when the product overflows).</summary>
    public static void* Calloc(Arena arena, nuint count, nuint size)
    {
        if (size != 0 && count > nuint.MaxValue / size) return null;
        nuint bytes = count * size;
        try
        {
            return arena.AllocateZeroed(bytes == 0 ? 1 : bytes);
        }
        catch (Exception e) when (e is OutOfMemoryException or ArgumentOutOfRangeException or ObjectDisposedException)
        {
            return null;
        }
    }

    /// <summary>realloc: the block resized (moved if need be), or null with the block unchanged; a null pointer allocates.</summary>
    public static void* Realloc(Arena arena, void* pointer, nuint size)
    {
        if (pointer == null) return Malloc(arena, size);
        try
        {
            return arena.Reallocate(pointer, size);
        }
        catch (Exception e) when (e is OutOfMemoryException or ArgumentOutOfRangeException)
        {
            return null;
        }
        catch (Exception e)
        {
            throw Fail("realloc", pointer, e);
        }
    }

    /// <summary>free: frees a block; null does nothing.</summary>
    public static void Free(Arena arena, void* pointer)
    {
        if (pointer == null) return;
        try
        {
            arena.Free(pointer);
        }
        catch (Exception e)
        {
            throw Fail("free", pointer, e);
        }
    }

    /// <summary>malloc_usable_size: the block's usable size; 0 for null.</summary>
    public static nuint UsableSize(Arena arena, void* pointer)
    {
        if (pointer == null) return 0;
        try
        {
            return arena.UsableSize(pointer);
        }
        catch (Exception e)
        {
            throw Fail("malloc_usable_size", pointer, e);
        }
    }

    /// <summary>aligned_alloc: <paramref name="size"/> bytes aligned to <paramref name="alignment"/> (a power of two), or null.</summary>
    public static void* AlignedAlloc(Arena arena, nuint alignment, nuint size)
    {
        if (alignment == 0 || (alignment & (alignment - 1)) != 0) return null;
        try
        {
            return arena.AllocateAligned(size == 0 ? 1 : size, alignment);
        }
        catch (Exception e) when (e is OutOfMemoryException or ArgumentOutOfRangeException or ObjectDisposedException)
        {
            return null;
        }
    }

    // FailFast never returns; the exception type only lets callers write `throw`.
    private static InvalidOperationException Fail(string function, void* pointer, Exception e)
    {
        Environment.FailFast($"{function}(): invalid pointer 0x{(nuint)pointer:x}: {e.Message}");
        return new InvalidOperationException(e.Message, e);
    }
}
