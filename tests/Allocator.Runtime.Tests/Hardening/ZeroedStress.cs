using System;
using System.Collections.Concurrent;
using System.Threading;
using Allocator;

namespace Allocator.Tests.Hardening;

/// <summary>mimalloc-style stress: threads recreated per round, zeroed blocks (half of them large, by default of issue 20's sizes 25,600 and 51,200 B) checked for zeros, cookie-filled and checked before free, migrating through a shared transfer array; data arrays grow by Reallocate.</summary>
public sealed unsafe class ZeroedStress
{
    public const ulong Cookie = 0xbf58476d1ce4e5b9UL;
    public int Threads = 16, Rounds = 20, AllocsPerThread = 2000, Transfers = 1000;
    /// <summary>The sizes of large blocks, drawn evenly: the two that came back holding old bytes in issue 20 (7 and 14 pages usable).</summary>
    public nuint[] LargeSizes = { 25_600, 51_200 };
    public int LargePercent = 50;
    public bool DataViaRealloc = true;
    /// <summary>When set, rounds go on until this much time has passed (the soak run); <see cref="Rounds"/> is then a minimum.</summary>
    public TimeSpan? Duration;
    public int RoundsRun;
    public long ZeroFailures, ContentFailures, Blocks;
    public ConcurrentQueue<string> Reports = new();
    readonly nint[] _transfer;
    readonly Arena _arena;

    public ZeroedStress(Arena arena, int transfers) { _arena = arena; Transfers = transfers; _transfer = new nint[transfers]; }

    public void Run(Action<int>? afterRound = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int round = 0; round < Rounds || (Duration is { } d && clock.Elapsed < d); round++)
        {
            RoundsRun = round + 1;
            var ts = new Thread[Threads];
            for (int t = 0; t < Threads; t++) { int tid = t + round * Threads; ts[t] = new Thread(() => Worker(tid)); }
            foreach (var t in ts) t.Start();
            foreach (var t in ts) t.Join();
            afterRound?.Invoke(round);
        }
        for (int i = 0; i < _transfer.Length; i++) { FreeItems((void*)_transfer[i]); _transfer[i] = 0; }
    }

    ulong Pick(ref ulong r) { r ^= r << 13; r ^= r >> 7; r ^= r << 17; return r; }
    bool Chance(int pct, ref ulong r) => Pick(ref r) % 100 < (ulong)pct;

    void* AllocItems(ref ulong r)
    {
        nuint bytes;
        if (Chance(LargePercent, ref r)) bytes = LargeSizes[(int)(Pick(ref r) % (ulong)LargeSizes.Length)];
        else bytes = 8 + (nuint)(Pick(ref r) % 2048);
        nuint items = bytes / 8;
        var p = (ulong*)_arena.AllocateZeroed(items * 8);
        for (nuint i = 0; i < items; i++)
        {
            if (p[i] != 0)
            {
                ulong v = p[i];
                Thread.MemoryBarrier();
                nuint nonzero = 0;
                for (nuint j = 0; j < items; j++) if (p[j] != 0) nonzero++;
                Interlocked.Increment(ref ZeroFailures);
                Reports.Enqueue($"AllocateZeroed({items * 8}) at 0x{(nuint)p:x}: word {i} = 0x{v:x}; second read {nonzero} non-zero words; usable {_arena.UsableSize(p)}");
                break;
            }
        }
        for (nuint i = 0; i < items; i++) p[i] = (items - i) ^ Cookie;
        Interlocked.Increment(ref Blocks);
        return p;
    }

    void FreeItems(void* q)
    {
        if (q == null) return;
        var p = (ulong*)q;
        nuint items = (nuint)(p[0] ^ Cookie);
        for (nuint i = 0; i < items; i++)
        {
            if ((p[i] ^ Cookie) != items - i)
            {
                Interlocked.Increment(ref ContentFailures);
                Reports.Enqueue($"content of 0x{(nuint)p:x} ({items} items): word {i} = 0x{p[i]:x}");
                break;
            }
        }
        _arena.Free(q);
    }

    void Worker(int tid)
    {
        ulong r = (ulong)(tid + 1) * 0x9E3779B97F4A7C15UL;
        int allocs = AllocsPerThread, retain = allocs / 2;
        nint* data = null; int dataSize = 0, dataTop = 0;
        nint* retained = (nint*)_arena.AllocateZeroed((nuint)(retain * sizeof(nint) + 8));
        int retainTop = 0;
        while (allocs > 0 || retain > 0)
        {
            if (retain == 0 || (Chance(50, ref r) && allocs > 0))
            {
                allocs--;
                if (dataTop >= dataSize)
                {
                    dataSize += 1000;
                    data = (nint*)_arena.Reallocate(data, (nuint)(dataSize * sizeof(nint)));
                }
                data[dataTop++] = (nint)AllocItems(ref r);
            }
            else
            {
                retained[retainTop++] = (nint)AllocItems(ref r);
                retain--;
            }
            if (Chance(66, ref r) && dataTop > 0)
            {
                int idx = (int)(Pick(ref r) % (ulong)dataTop);
                FreeItems((void*)data[idx]);
                data[idx] = 0;
            }
            if (Chance(25, ref r) && dataTop > 0)
            {
                int di = (int)(Pick(ref r) % (ulong)dataTop);
                int ti = (int)(Pick(ref r) % (ulong)_transfer.Length);
                data[di] = Interlocked.Exchange(ref _transfer[ti], data[di]);
            }
        }
        for (int i = 0; i < retainTop; i++) FreeItems((void*)retained[i]);
        for (int i = 0; i < dataTop; i++) FreeItems((void*)data[i]);
        _arena.Free(retained);
        _arena.Free(data);
    }
}
