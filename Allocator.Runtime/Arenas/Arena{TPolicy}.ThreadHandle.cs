using System;
using System.Runtime.CompilerServices;

namespace Allocator;

public sealed unsafe partial class Arena<TPolicy>
{
    /// <summary>
    /// The calling thread's direct line to its cache in this arena, for hot loops: allocation and
    /// sized free through it skip the thread-local lookup. Use it only on the thread that got it
    /// (a ref struct cannot leave the stack); after <see cref="Reset"/> or <see cref="Dispose"/> it
    /// falls back to the arena's ordinary paths.
    /// </summary>
    public ThreadHandle GetThreadHandle()
    {
        ThrowIfDisposed();
        // Without a cache the handle carries a key no arena ever has, so it always takes the ordinary path.
        return UseThreadCache ? new ThreadHandle(this, CurrentCache(), _key) : new ThreadHandle(this, null, ulong.MaxValue);
    }

    /// <summary>A thread's handle on its cache in one arena; see <see cref="GetThreadHandle"/>.</summary>
    public readonly ref struct ThreadHandle
    {
        private readonly Arena<TPolicy> _arena;
        private readonly ThreadCache* _cache;
        private readonly ulong _key;

        internal ThreadHandle(Arena<TPolicy> arena, ThreadCache* cache, ulong key)
        {
            _arena = arena;
            _cache = cache;
            _key = key;
        }

        /// <summary>Allocates <paramref name="size"/> bytes, from the thread's cache when it can.</summary>
        /// <exception cref="OutOfMemoryException">No memory could be had.</exception>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void* Allocate(nuint size)
        {
            Arena<TPolicy> arena = _arena;
            // The arena's key changes on reset and dispose, and keys are never reused: while it
            // matches, the cache block is alive and current. Its countdown is the one the arena's
            // own paths count on this thread, and a miss goes on without counting again.
            if (arena._key == _key)
            {
                if (arena.Profiled && (_cache->BytesUntilSample -= (long)size) < 0)
                    return arena.AllocateSampled(_cache, size, zero: false, throwOnFailure: true);
                if (size <= arena._allocFastMax)
                {
                    void* p = _cache->Bins[arena.SmallIndex(size)].Pop();
                    return p != null ? p : arena.AllocateSlow(size, zero: false, throwOnFailure: true);
                }

                return arena.AllocateUnsampled(size, zero: false, throwOnFailure: true);
            }

            return arena.Allocate(size);
        }

        /// <summary>Frees a block of a known size, into the thread's cache when it can.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void FreeSized(void* pointer, nuint size)
        {
            Arena<TPolicy> arena = _arena;
            if (size <= arena._freeFastMax && arena.MayPushSized(pointer) && arena.SizedPushKey == _key &&
                _cache->Bins[arena.SmallIndex(size)].TryPush(pointer))
                return;
            arena.FreeSized(pointer, size);
        }

        /// <summary>Frees a block from <see cref="AllocateAligned"/> of a known size and alignment, classed by both.</summary>
        /// <exception cref="ArgumentOutOfRangeException">The alignment is not a power of two, or the aligned size exceeds the largest class.</exception>
        public void FreeSized(void* pointer, nuint size, nuint alignment) => _arena.FreeSized(pointer, size, alignment);
    }
}
