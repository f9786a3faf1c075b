using System;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Threading;
using Allocator.Metadata;
using Allocator.Threading;

namespace Allocator;

/// <summary>
/// A native-memory arena: jemalloc's small (slab) and large allocations with per-thread caches,
/// on pages it gets from the OS and gives back over time. Create one with <see cref="Create"/>, or
/// declare one with <c>[Arena]</c> and let the source generator specialize it.
/// </summary>
/// <remarks>
/// Allocation and free are thread-safe and lock-free on a thread-cache hit. <see cref="Reset"/> and
/// <see cref="Dispose"/> must not run while another thread uses the arena, and invalidate every
/// pointer it handed out.
/// </remarks>
public abstract unsafe class Arena : IDisposable
{
    // Live arenas by index, so a dead thread's cache can be flushed into the arena it belongs to.
    private static readonly Arena?[] s_live = new Arena?[Allocator.Metadata.Edata.NoArena];

    static Arena() => ThreadCaches.OnThreadExit = OnThreadExit;

    private protected Arena()
    {
    }

    /// <summary>Identity of this arena object (indices are reused, ids never).</summary>
    internal abstract long Id { get; }

    // Bumped by Reset and Dispose, which free every block at once.
    private long _generation;

    // The pool behind Rent, made on first use.
    private ArenaMemoryPool? _rentPool;

    /// <summary>Changes on every <see cref="Reset"/> and <see cref="Dispose"/>: a block from an earlier generation is gone.</summary>
    internal long Generation => Volatile.Read(ref _generation);

    /// <summary>Starts a new generation (Reset and Dispose, before they free the blocks).</summary>
    private protected void NextGeneration() => Interlocked.Increment(ref _generation);

    /// <summary>Whether the arena checks every free (the policy's or the options' <c>DebugChecks</c>).</summary>
    internal abstract bool HasDebugChecks { get; }

    /// <summary>Flushes and frees a dead thread's cache block (ThreadCaches.ListLock held).</summary>
    internal abstract void FlushOnThreadExit(nint cache);

    // Process-wide, not per policy: a generic class would give each policy its own counters, and two
    // policies' arenas could then share a key and pick up each other's thread caches.
    private static long s_nextId, s_nextKey;

    private protected static long NextId() => Interlocked.Increment(ref s_nextId);

    private protected static ulong NextKey() => (ulong)Interlocked.Increment(ref s_nextKey);

    private protected static void Register(Arena arena)
    {
        using (ThreadCaches.ListLock.EnterScope()) s_live[arena.Index] = arena;
        if (AllocatorMetrics.CreatedWithArenas) AllocatorMetrics.CreateForArenas();
    }

    /// <summary>The arenas alive now (for metrics), in index order.</summary>
    internal static System.Collections.Generic.List<Arena> LiveArenas()
    {
        var list = new System.Collections.Generic.List<Arena>();
        using (ThreadCaches.ListLock.EnterScope())
        {
            foreach (Arena? a in s_live)
            {
                if (a != null) list.Add(a);
            }
        }

        return list;
    }

    // ThreadCaches.ListLock held.
    private protected static void Unregister(Arena arena) => s_live[arena.Index] = null;

    /// <summary>The exception <see cref="Validate"/> throws for a broken invariant, naming it.</summary>
    internal static InvalidOperationException InvariantBroken(string what) => new($"Arena invariant broken: {what}.");

    private static void OnThreadExit(nint handle)
    {
        var tc = (ThreadCache*)handle;
        Arena? owner = tc->Orphaned == 0 ? s_live[tc->ArenaIndex] : null;
        if (owner != null && owner.Id == tc->ArenaId) owner.FlushOnThreadExit(handle);
        else ThreadCache.Free(tc);
    }

    /// <summary>Creates an arena configured at run time.</summary>
    /// <exception cref="ArgumentException">A setting is invalid; the message names it.</exception>
    public static Arena Create(ArenaOptions? options = null) => new Arena<RuntimeArenaPolicy>(options ?? new ArenaOptions());

    /// <summary>The arena's index (reused after it is disposed).</summary>
    public abstract uint Index { get; }

    /// <summary>The largest size <see cref="Allocate"/> can serve.</summary>
    public abstract nuint MaxSize { get; }

    /// <summary>Allocates <paramref name="size"/> bytes (at least 1), aligned to at least 8 or 16 bytes depending on the size class.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The size exceeds <see cref="MaxSize"/>.</exception>
    /// <exception cref="OutOfMemoryException">No memory could be had.</exception>
    // The hot calls are not virtual here. Arena.Create() hands out this type, and the JIT can only
    // guard each virtual call with its own type test (guarded devirtualization), which leaves each
    // inlined body's thread-local access behind its own branch: no one access dominates, so a caller
    // that allocates and frees pays one __tls_get_addr call for each. Read here first, the thread's
    // last key dominates the whole inlined call, the type test for Arena.Create()'s own class
    // follows, and other policies take the virtual path.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void* Allocate(nuint size)
    {
        ulong lastKey = ThreadCaches.LastKey;
        return this is Arena<RuntimeArenaPolicy> runtime ? runtime.AllocateWithKey(size, lastKey, throwOnFailure: true) : AllocateVirtual(size);
    }

    /// <summary>Allocates <paramref name="size"/> bytes, or returns null when that is impossible (no exception).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void* TryAllocate(nuint size)
    {
        ulong lastKey = ThreadCaches.LastKey;
        return this is Arena<RuntimeArenaPolicy> runtime ? runtime.AllocateWithKey(size, lastKey, throwOnFailure: false) : TryAllocateVirtual(size);
    }

    // The allocation and free of any other policy held as Arena.
    private protected abstract void* AllocateVirtual(nuint size);

    private protected abstract void* TryAllocateVirtual(nuint size);

    private protected abstract void FreeVirtual(void* pointer);

    private protected abstract void FreeSizedVirtual(void* pointer, nuint size);

    /// <summary>Allocates <paramref name="size"/> bytes that read as zero.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The size exceeds <see cref="MaxSize"/>.</exception>
    /// <exception cref="OutOfMemoryException">No memory could be had.</exception>
    public abstract void* AllocateZeroed(nuint size);

    /// <summary>Allocates <paramref name="size"/> bytes aligned to <paramref name="alignment"/> (a power of two).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The alignment is not a power of two, or the size is too large.</exception>
    /// <exception cref="OutOfMemoryException">No memory could be had.</exception>
    public abstract void* AllocateAligned(nuint size, nuint alignment);

    /// <summary>
    /// Resizes a block, in place when its size class allows or its neighbors are free, otherwise by
    /// moving it. A null <paramref name="pointer"/> allocates.
    /// </summary>
    /// <exception cref="InvalidOperationException">The pointer is not a live block of this arena.</exception>
    /// <exception cref="OutOfMemoryException">No memory could be had; the block is unchanged.</exception>
    public abstract void* Reallocate(void* pointer, nuint newSize);

    /// <summary>Frees a block. Null is ignored.</summary>
    /// <exception cref="InvalidOperationException">
    /// The pointer is not a live block of this arena (foreign, interior, or freed twice); the arena is unchanged.
    /// </exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(void* pointer)
    {
        ulong lastKey = ThreadCaches.LastKey;
        if (this is Arena<RuntimeArenaPolicy> runtime) runtime.FreeWithKey(pointer, lastKey);
        else FreeVirtual(pointer);
    }

    /// <summary>
    /// Frees a block whose requested (or usable) size the caller knows, skipping the lookup of its
    /// size class for small blocks. A size of another class than the block's is caught at once with
    /// debug checks on, otherwise at the latest when the thread cache is flushed (the block then goes
    /// back where it belongs). A block from <see cref="AllocateAligned"/> needs the overload with the alignment.
    /// </summary>
    /// <exception cref="InvalidOperationException">The pointer is not a live block of this arena, or is not of the given size's class (where detectable).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void FreeSized(void* pointer, nuint size)
    {
        ulong lastKey = ThreadCaches.LastKey;
        if (this is Arena<RuntimeArenaPolicy> runtime) runtime.FreeSizedWithKey(pointer, size, lastKey);
        else FreeSizedVirtual(pointer, size);
    }

    /// <summary>
    /// Frees a block from <see cref="AllocateAligned"/> whose size and alignment the caller knows: the
    /// block is classed by both together, as the allocation was. A wrong size or alignment is caught
    /// at once with debug checks on, otherwise at the latest when the thread cache is flushed.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The alignment is not a power of two, or the aligned size exceeds <see cref="MaxSize"/>.</exception>
    /// <exception cref="InvalidOperationException">The pointer is not a live block of this arena, or is not of the given size's class (where detectable).</exception>
    public abstract void FreeSized(void* pointer, nuint size, nuint alignment);

    /// <summary>The usable size of a live block (its size class).</summary>
    /// <exception cref="InvalidOperationException">The pointer is not a live block of this arena.</exception>
    public abstract nuint UsableSize(void* pointer);

    /// <summary>
    /// Flushes the calling thread's cache and returns dirty and muzzy pages to the OS now, and the
    /// pages of partly used slabs that hold only free regions (which decay never reaches).
    /// </summary>
    public abstract void Purge();

    /// <summary>
    /// Changes how long freed pages linger: -1 never purge, 0 purge at once, or milliseconds. The
    /// decay schedule restarts. (A generated arena whose policy never decays has no decay ticks
    /// compiled in: only <see cref="Purge"/> and a background purger purge it.)
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A time is below -1 or too large.</exception>
    public abstract void SetDecayTimes(long dirtyDecayMs, long muzzyDecayMs);

    /// <summary>Frees every block at once, keeping the mappings for reuse. Every pointer becomes invalid.</summary>
    public abstract void Reset();

    /// <summary>A snapshot of the arena's statistics.</summary>
    public abstract ArenaStats GetStats();

    /// <summary>Walks all metadata and throws <see cref="InvalidOperationException"/> on the first broken invariant.</summary>
    /// <remarks>Use in tests and diagnostics while no other thread uses the arena.</remarks>
    public abstract void Validate();

    /// <summary>Releases every mapping, guard page and metadata block. Every pointer becomes invalid.</summary>
    public abstract void Dispose();

    /// <summary>Every extent and guard page of the arena, unordered (for <see cref="AddressSpacePicture"/>).</summary>
    /// <remarks>Meaningful while no other thread uses the arena.</remarks>
    public abstract System.Collections.Generic.List<AddressSpaceRegion> GetAddressSpace();

    /// <summary>
    /// The heap profile now: the sampled allocation sites with unbiased estimates of their live and
    /// cumulative bytes (see <see cref="ArenaOptions.ProfileSampleBytes"/>). Empty when the arena does
    /// not profile.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The arena has been disposed.</exception>
    public abstract Profiling.HeapProfile GetHeapProfile();

    /// <summary>
    /// Raised by <see cref="Dispose"/> of an arena with <see cref="ArenaOptions.LeakReport"/> on when
    /// blocks are still allocated, with those blocks by allocation site. Without a handler the report's
    /// text goes to standard error.
    /// </summary>
    public event EventHandler<Profiling.LeakReport>? LeaksFound;

    /// <summary>Raises <see cref="LeaksFound"/>, or writes the report to standard error when nobody listens.</summary>
    private protected void OnLeaksFound(Profiling.LeakReport report)
    {
        EventHandler<Profiling.LeakReport>? handler = LeaksFound;
        if (handler != null) handler(this, report);
        else Console.Error.Write(report.ToText());
    }

    /// <summary>Allocates an array of <paramref name="length"/> elements (contents undefined).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The length is negative or the byte size overflows.</exception>
    /// <exception cref="OutOfMemoryException">No memory could be had.</exception>
    public Span<T> AllocateArray<T>(int length) where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        nuint bytes = checked((nuint)length * (nuint)sizeof(T));
        return new Span<T>(Allocate(bytes == 0 ? 1 : bytes), length);
    }

    /// <summary>Frees an array from <see cref="AllocateArray{T}"/>.</summary>
    /// <exception cref="InvalidOperationException">The span does not start a live block of this arena.</exception>
    public void FreeArray<T>(Span<T> array) where T : unmanaged
    {
        // AllocateArray asked for at least one byte, so an empty array freed its one-byte block.
        nuint bytes = (nuint)array.Length * (nuint)sizeof(T);
        FreeSized(Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(array)), bytes == 0 ? 1 : bytes);
    }

    /// <summary>
    /// Rents a block of at least <paramref name="minimumLength"/> bytes as <see cref="IMemoryOwner{T}"/>
    /// (its memory spans the block's usable size); dispose it to free the block, and do not use it after.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The length is negative or exceeds <see cref="MaxSize"/>.</exception>
    /// <exception cref="ObjectDisposedException">The arena has been disposed.</exception>
    /// <exception cref="OutOfMemoryException">No memory could be had.</exception>
    public IMemoryOwner<byte> Rent(int minimumLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minimumLength);
        ArenaMemoryPool? pool = Volatile.Read(ref _rentPool);
        if (pool == null)
        {
            Interlocked.CompareExchange(ref _rentPool, new ArenaMemoryPool(this), null);
            pool = _rentPool;
        }

        return pool.RentOwner(minimumLength);
    }

    /// <summary>
    /// A new <see cref="MemoryPool{T}"/> that rents from this arena, for <c>System.IO.Pipelines</c> and
    /// other users of the BCL's pool contract: <c>Rent(-1)</c> rents 4096 bytes, a rented block's
    /// memory spans its usable size, and renting and disposing allocate nothing on the GC heap in a
    /// steady state. Disposing the pool does not free the blocks rented from it.
    /// </summary>
    public MemoryPool<byte> AsMemoryPool() => new ArenaMemoryPool(this);
}
