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
/// Usage: <c>-- discard [minutes] [threads] [variant...]</c>; exit code 1 when a discarded page read non-zero.
/// Variants bring in what the arena did around such a page and this check at first did not:
/// <c>migrate</c> moves the discarding thread to the other CPU between the discard and the check
/// (so a translation cached there is what the check would use); <c>fifo</c> reuses the slot idle
/// longest instead of the last one freed (arena blocks waited seconds in the dirty cache);
/// <c>age</c> clears the pages' accessed bits every 50 ms (/proc/self/clear_refs, as the kernel's
/// access monitor, kdamond, does on this host); <c>churn</c> maps, touches and unmaps 64 MiB
/// every 20 ms beside it (the arena's threads and purges freed memory in large runs).
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
        var variants = new HashSet<string>(args.Length > 3 ? args[3..] : Array.Empty<string>(), StringComparer.Ordinal);
        foreach (string v in variants)
        {
            if (v is not ("migrate" or "fifo" or "age" or "churn"))
                throw new ArgumentException($"unknown variant '{v}' (known: migrate, fifo, age, churn)", nameof(args));
        }

        var state = new State((byte*)Mmap(null, Slot * Slots, 3, 0x22, -1, 0))
        {
            Migrate = variants.Contains("migrate"),
            Fifo = variants.Contains("fifo"),
        };
        if (state.Region == (byte*)-1) throw new InvalidOperationException("mmap failed");
        var helpers = new List<Thread>();
        if (variants.Contains("age")) helpers.Add(new Thread(() => Age(state)));
        if (variants.Contains("churn")) helpers.Add(new Thread(() => Churn(state)));
        helpers.ForEach(h => h.Start());

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
        helpers.ForEach(h => h.Join());
        Console.WriteLine($"variants [{string.Join(' ', variants)}]: {round} rounds, {state.Checks:N0} slots checked for zeros, {state.Failures} read non-zero after MADV_DONTNEED");
        return state.Failures == 0 ? 0 : 1;
    }

    private sealed class State(byte* region)
    {
        public readonly byte* Region = region;
        public readonly Lock Gate = new();
        public readonly LinkedList<int> Free = new(Enumerable(Slots));
        public readonly bool[] Untouched = Filled(Slots, true);
        public readonly int[] Transfer = Filled(1000, -1);
        public long Checks, Failures;
        public bool Stop, Migrate, Fifo;

        // The slot freed last, or with Fifo the one idle longest; call with Gate held.
        public int Take()
        {
            LinkedListNode<int> node = Fifo ? Free.First! : Free.Last!;
            Free.Remove(node);
            return node.Value;
        }

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
                    slot = s.Take();
                    untouched = s.Untouched[slot];
                    s.Untouched[slot] = false;
                }

                ulong* p = s.At(slot);
                if (!untouched) Madvise(p, Slot, MadvDontNeed);
                if (s.Migrate) MoveToOtherCpu();
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

                lock (s.Gate) s.Free.AddLast(slot);
            }
        }

        lock (s.Gate)
        {
            foreach (int slot in mine) s.Free.AddLast(slot);
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
                if (s.Free.Count > 16 && (y & 1) == 0) slot = s.Take();
            }

            if (slot < 0)
            {
                Thread.Yield();
                continue;
            }

            Madvise(s.At(slot), Slot, MadvFree);
            lock (s.Gate) s.Free.AddLast(slot);
        }
    }

    private static void MoveToOtherCpu()
    {
        int cpus = Environment.ProcessorCount;
        if (cpus < 2) return;
        ulong mask = 1UL << ((SchedGetCpu() + 1) % Math.Min(cpus, 64));
        SchedSetAffinity(0, sizeof(ulong), &mask);
    }

    private static void Age(State s)
    {
        while (!Volatile.Read(ref s.Stop))
        {
            System.IO.File.WriteAllText("/proc/self/clear_refs", "1");
            Thread.Sleep(50);
        }
    }

    private static void Churn(State s)
    {
        const nuint Size = 64 << 20;
        while (!Volatile.Read(ref s.Stop))
        {
            byte* m = (byte*)Mmap(null, Size, 3, 0x22, -1, 0);
            if (m == (byte*)-1) throw new InvalidOperationException("mmap failed");
            for (nuint i = 0; i < Size; i += 4096) m[i] = 1;
            Munmap(m, Size);
            Thread.Sleep(20);
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

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int Munmap(void* address, nuint length);

    [LibraryImport("libc", EntryPoint = "sched_getcpu")]
    private static partial int SchedGetCpu();

    [LibraryImport("libc", EntryPoint = "sched_setaffinity")]
    private static partial int SchedSetAffinity(int pid, nuint size, ulong* mask);

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(void* address, nuint length, int advice);
}
