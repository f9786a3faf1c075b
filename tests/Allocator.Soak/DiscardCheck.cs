using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Threading;

namespace Allocator.Soak;

/// <summary>
/// Issue 20's question without the allocator: does a page discarded with MADV_DONTNEED by the
/// thread that then reads it always read as zero? Slots of one anonymous mapping pass between
/// threads recreated every round; a thread takes a slot, discards it unless it is known to be
/// untouched, checks every word is zero, fills it, and later frees it or swaps it with another
/// thread's through a shared array. A second thread lazily frees (MADV_FREE) idle slots meanwhile.
/// Usage: <c>-- discard [minutes] [threads]</c>; exit code 1 when a discarded page read non-zero.
/// </summary>
internal static unsafe partial class DiscardCheck
{
    private const ulong Cookie = 0xbf58476d1ce4e5b9UL;
    private const nuint Slot = 56 << 10;
    private const int Slots = 8192, MadvDontNeed = 4, MadvFree = 8;

    public static int Run(string[] args)
    {
        double minutes = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 10;
        int threads = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 16;
        var state = new State((byte*)Mmap(null, Slot * Slots, 3, 0x22, -1, 0));
        if (state.Region == (byte*)-1) throw new InvalidOperationException("mmap failed");

        var lazy = new Thread(() => LazyFree(state));
        lazy.Start();
        var stop = DateTime.UtcNow.AddMinutes(minutes);
        int round = 0;
        while (DateTime.UtcNow < stop)
        {
            var workers = new Thread[threads];
            for (int t = 0; t < threads; t++)
            {
                ulong seed = (ulong)(round * threads + t + 1) * 0x9E3779B97F4A7C15UL;
                workers[t] = new Thread(() => Work(state, seed, 2000));
            }

            foreach (Thread w in workers) w.Start();
            foreach (Thread w in workers) w.Join();
            if (++round % 10 == 0) Console.WriteLine($"round {round}: {Interlocked.Read(ref state.Checks):N0} checks, {Interlocked.Read(ref state.Failures)} non-zero");
        }

        Volatile.Write(ref state.Stop, true);
        lazy.Join();
        Console.WriteLine($"{round} rounds, {state.Checks:N0} slots checked for zeros, {state.Failures} read non-zero after MADV_DONTNEED");
        return state.Failures == 0 ? 0 : 1;
    }

    private sealed class State(byte* region)
    {
        public readonly byte* Region = region;
        public readonly Lock Gate = new();
        public readonly Stack<int> Free = new(Enumerable(Slots));
        public readonly bool[] Untouched = Filled(Slots, true);
        public readonly int[] Transfer = Filled(1000, -1);
        public long Checks, Failures;
        public bool Stop;

        public ulong* At(int slot) => (ulong*)(Region + (nuint)slot * Slot);
    }

    private static void Work(State s, ulong x, int operations)
    {
        var mine = new List<int>(64);
        for (int k = 0; k < operations; k++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if (mine.Count < 64 && (mine.Count == 0 || (x & 1) == 0))
            {
                int slot;
                bool untouched;
                lock (s.Gate)
                {
                    if (s.Free.Count == 0) continue;
                    slot = s.Free.Pop();
                    untouched = s.Untouched[slot];
                    s.Untouched[slot] = false;
                }

                ulong* p = s.At(slot);
                if (!untouched) Madvise(p, Slot, MadvDontNeed);
                nuint words = Slot / 8 - (nuint)(x % 2048);
                Check(s, slot, p, words);
                for (nuint i = 0; i < words; i++) p[i] = (words - i) ^ Cookie;
                mine.Add(slot);
            }
            else
            {
                int idx = (int)((x >> 8) % (ulong)mine.Count);
                int slot = mine[idx];
                mine[idx] = mine[^1];
                mine.RemoveAt(mine.Count - 1);
                if ((x & 6) == 0)
                {
                    slot = Interlocked.Exchange(ref s.Transfer[(int)((x >> 20) % (ulong)s.Transfer.Length)], slot);
                    if (slot < 0) continue;
                }

                lock (s.Gate) s.Free.Push(slot);
            }
        }

        lock (s.Gate)
        {
            foreach (int slot in mine) s.Free.Push(slot);
        }
    }

    private static void Check(State s, int slot, ulong* p, nuint words)
    {
        Interlocked.Increment(ref s.Checks);
        for (nuint i = 0; i < words; i++)
        {
            if (p[i] == 0) continue;
            ulong value = p[i];
            nuint nonZero = 0;
            for (nuint j = 0; j < words; j++) nonZero += p[j] != 0 ? 1u : 0u;
            Interlocked.Increment(ref s.Failures);
            Console.WriteLine($"slot {slot}: word {i} = 0x{value:x} after MADV_DONTNEED; a re-read found {nonZero} non-zero words");
            return;
        }
    }

    private static void LazyFree(State s)
    {
        ulong y = 88172645463325252UL;
        while (!Volatile.Read(ref s.Stop))
        {
            y ^= y << 13;
            y ^= y >> 7;
            y ^= y << 17;
            int slot = -1;
            lock (s.Gate)
            {
                if (s.Free.Count > 16 && (y & 1) == 0) slot = s.Free.Pop();
            }

            if (slot < 0)
            {
                Thread.Yield();
                continue;
            }

            Madvise(s.At(slot), Slot, MadvFree);
            lock (s.Gate) s.Free.Push(slot);
        }
    }

    private static IEnumerable<int> Enumerable(int n)
    {
        for (int i = 0; i < n; i++) yield return i;
    }

    private static T[] Filled<T>(int n, T value)
    {
        var a = new T[n];
        Array.Fill(a, value);
        return a;
    }

    [LibraryImport("libc", EntryPoint = "mmap")]
    private static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(void* address, nuint length, int advice);
}
