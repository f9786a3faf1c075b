using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using Allocator.Threading;

namespace Allocator;

/// <summary>
/// One thread's cache for one arena (jemalloc's tcache): a native block holding a header, one
/// <see cref="CacheBin"/> per cached size class and the bins' slots. Allocation and free pop and
/// push here without a lock; misses fill and overflows flush in batches under the bin lock.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ThreadCache
{
    /// <summary>The arena key this cache is valid for; it changes when the arena is reset.</summary>
    public ulong Key;

    /// <summary>
    /// Bytes this thread may still allocate in the arena before its next heap-profile sample (when
    /// the arena profiles): beside the bins, so the allocation hit reaches it through the one
    /// thread-local access it makes anyway. Drawn when the cache is created.
    /// </summary>
    public long BytesUntilSample;

    /// <summary>The arena object's identity (not its index, which is reused after destroy).</summary>
    public long ArenaId;

    public uint ArenaIndex;
    public int BinCount;
    public int Ticks;
    public int NextTrim;

    /// <summary>Set when the arena was destroyed: only the owning thread (or its exit) may free the block.</summary>
    public int Orphaned;

    /// <summary>The bin shard this cache fills from and flushes to (chosen when it is created).</summary>
    public int Shard;

    public ThreadCache* Next;
    public ThreadCache* Prev;

    // The header rounded up to a cache line. A constant rather than a computed static, so that code
    // compiled before this type is initialized (no tiering, or the first tier) adds it as an immediate.
    private const int HeaderSize = 64;

    public CacheBin* Bins
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (CacheBin*)((byte*)Unsafe.AsPointer(ref this) + HeaderSize);
    }

    /// <summary>Maps a block with one bin per entry of <paramref name="capacities"/>.</summary>
    public static ThreadCache* Create(ReadOnlySpan<int> capacities, uint arenaIndex, long arenaId, ulong key)
    {
        Debug.Assert(sizeof(ThreadCache) <= HeaderSize, "the header outgrew its cache line");
        nuint slots = 0;
        foreach (int c in capacities) slots += (nuint)c;
        nuint bytes = (nuint)HeaderSize + (nuint)(sizeof(CacheBin) * capacities.Length) + slots * (nuint)sizeof(void*);
        var tc = (ThreadCache*)NativeMemory.AlignedAlloc(bytes, 64);
        NativeMemory.Clear(tc, bytes);
        tc->ArenaIndex = arenaIndex;
        tc->ArenaId = arenaId;
        tc->Key = key;
        tc->BinCount = capacities.Length;
        var slot = (void**)((byte*)tc->Bins + sizeof(CacheBin) * capacities.Length);
        for (int i = 0; i < capacities.Length; i++)
        {
            tc->Bins[i].Init(slot, capacities[i]);
            slot += capacities[i];
        }

        return tc;
    }

    /// <summary>Drops every cached pointer (after a reset they point into freed slabs).</summary>
    public void Clear()
    {
        for (int i = 0; i < BinCount; i++)
        {
            while (Bins[i].TryPop(out _))
            {
            }

            Bins[i].ResetLowWater();
        }
    }

    public static void Free(ThreadCache* tc) => NativeMemory.AlignedFree(tc);
}

/// <summary>
/// The per-thread table from arena index to that thread's cache, and the object whose finalizer
/// flushes a dead thread's caches (.NET has no thread-exit callback; a finalizable object reachable
/// only from a thread-static slot is finalized after its thread dies).
/// </summary>
internal static unsafe class ThreadCaches
{
    /// <summary>Guards every arena's list of caches and orphaning; taken before any bin lock.</summary>
    public static readonly RankedLock ListLock = new(LockRank.ThreadCacheList);

    [ThreadStatic] private static nint[]? t_slots;
    [ThreadStatic] private static ExitFlusher? t_flusher;

    // The cache this thread used last, with the key it is valid for. Primitive thread statics (a
    // struct one would be boxed), so the JIT reaches both through one TLS access, and the hit test
    // compares a key without loading from the cache block first. Keys are never reused, so a key
    // match alone proves it is the right cache; only this thread frees a block it can point at, and
    // it clears these first.
    [ThreadStatic] private static ulong t_lastKey;
    [ThreadStatic] private static nint t_last;

    /// <summary>The key <see cref="Last"/> is valid for; 0 when this thread has used no cache yet.</summary>
    public static ulong LastKey
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => t_lastKey;
    }

    /// <summary>The cache this thread used last; never null when <see cref="LastKey"/> is a live arena's key.</summary>
    public static ThreadCache* Last
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (ThreadCache*)t_last;
    }

    /// <summary>
    /// The calling thread's cache for arena <paramref name="index"/> from the per-thread table, when
    /// <see cref="LastKey"/> is another; it becomes <see cref="Last"/>. Null if there is none valid for <paramref name="key"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ThreadCache* GetFromTable(uint index, ulong key)
    {
        nint[]? slots = t_slots;
        if (slots != null && index < (uint)slots.Length)
        {
            var tc = (ThreadCache*)slots[index];
            if (tc != null && tc->Key == key)
            {
                Remember(tc);
                return tc;
            }
        }

        return null;
    }

    private static void Remember(ThreadCache* tc)
    {
        t_lastKey = tc->Key;
        t_last = (nint)tc;
    }

    /// <summary>Forgets <paramref name="tc"/> as the last-used cache before the calling thread frees it.</summary>
    public static void Forget(ThreadCache* tc)
    {
        if (t_last != (nint)tc) return;
        t_lastKey = 0;
        t_last = 0;
    }

    /// <summary>The calling thread's block at <paramref name="index"/>, whatever its key (ListLock held).</summary>
    public static ThreadCache* Peek(uint index)
    {
        nint[]? slots = t_slots;
        return slots != null && index < (uint)slots.Length ? (ThreadCache*)slots[index] : null;
    }

    /// <summary>Installs <paramref name="tc"/> as the calling thread's cache at <paramref name="index"/> (ListLock held).</summary>
    public static void Set(uint index, ThreadCache* tc)
    {
        nint[]? slots = t_slots;
        if (slots == null || index >= (uint)slots.Length)
        {
            var grown = new nint[Math.Max(16, (int)index * 2 + 1)];
            slots?.CopyTo(grown, 0);
            slots = grown;
            t_slots = slots;
        }

        slots[index] = (nint)tc;
        Remember(tc);
        if (t_flusher == null)
        {
            // A thread's first cache: a moment to give back the caches of threads that died since.
            ReapDeadThreads();
            t_flusher = new ExitFlusher(Thread.CurrentThread);
            s_flushers.Add(new WeakReference<ExitFlusher>(t_flusher));
        }

        t_flusher.Slots = slots;
    }

    /// <summary>
    /// Flushes the caches of every thread that has died, without waiting for a GC to finalize its
    /// flusher: a program that starts threads but allocates little on the GC heap would otherwise
    /// keep each dead thread's cached blocks, and their pages, until the next collection (ListLock held).
    /// </summary>
    public static void ReapDeadThreads()
    {
        // Backwards, so the swap with the last entry only moves one already looked at.
        for (int i = s_flushers.Count - 1; i >= 0; i--)
        {
            if (s_flushers[i].TryGetTarget(out ExitFlusher? f))
            {
                if (f.Owner.IsAlive) continue;
                f.FlushAll();
            }

            s_flushers[i] = s_flushers[^1];
            s_flushers.RemoveAt(s_flushers.Count - 1);
        }
    }

    /// <summary>What to do with a dead thread's cache: the arena registry decides (ListLock held).</summary>
    internal static Action<nint>? OnThreadExit;

    // Every thread's flusher, weakly, so that the finalizer stays the way a flusher no reap found
    // is run (ListLock held).
    private static readonly List<WeakReference<ExitFlusher>> s_flushers = [];

    private sealed class ExitFlusher(Thread owner)
    {
        /// <summary>The thread whose caches these are.</summary>
        public readonly Thread Owner = owner;

        /// <summary>That thread's table; null once flushed.</summary>
        public nint[]? Slots;

        /// <summary>Flushes every cache of a dead thread, once (ListLock held).</summary>
        public void FlushAll()
        {
            nint[]? slots = Slots;
            Slots = null;
            if (slots == null) return;
            foreach (nint tc in slots)
            {
                if (tc != 0) OnThreadExit?.Invoke(tc);
            }
        }

        ~ExitFlusher()
        {
            using (ListLock.EnterScope()) FlushAll();
        }
    }
}
