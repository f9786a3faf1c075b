using System;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.IO;
using System.Threading;
using Allocator.Bench.Peers;

namespace Allocator.Bench.Workloads;

/// <summary>What one peer's hugepage run measured (issue 14's goals).</summary>
public sealed record HugePageRunResult(
    long WrittenBytes, int Blocks, double AllocateMs, long MinorFaults, long AnonHugeKiBAfterWrite, long AnonHugeKiBAfterWait,
    long WaitedMs, double ReadNs, long RssKiB);

/// <summary>
/// A live set of 64 B..4 KiB blocks (uniform sizes, fixed seed) allocated with every page written,
/// counting the minor page faults of that phase; optionally a wait (for a lazy hugify); then random
/// one-byte reads over the whole set (independent loads, so the page walks of a TLB miss are what
/// the peers differ in), timed per read. Runs alone in a child process: the fault
/// count and AnonHugePages (/proc/self/stat, /proc/self/smaps_rollup) are the whole process's.
/// </summary>
public static unsafe class HugePageRun
{
    private const int PageSize = 4096;

    public static HugePageRunResult Run<TPeer, TBlock>(TPeer peer, long bytes, int reads, int waitMs)
        where TPeer : struct, IPeer<TBlock>
    {
        var random = new Random(14);
        int count = (int)(bytes / ((64 + 4096) / 2));
        var sizes = new int[count];
        long written = 0;
        for (int i = 0; i < count; i++)
        {
            sizes[i] = random.Next(64, 4097);
            written += sizes[i];
        }

        var blocks = new TBlock[count];
        // The harness's own array is written before the faults are counted: they are not the allocator's.
        for (int i = 0; i < count; i++) blocks[i] = default!;
        TBlock first = peer.Allocate(64);
        peer.Write(first, 0, 1);
        peer.Free(first, 64);
        GC.Collect();

        long faults0 = MinorFaults();
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
        {
            nuint size = (nuint)sizes[i];
            TBlock block = peer.Allocate(size);
            peer.Fill(block, size, (byte)i);
            blocks[i] = block;
        }
        double allocateMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        long faults = MinorFaults() - faults0;
        long hugeAfterWrite = AnonHugeKiB();

        if (waitMs > 0) Thread.Sleep(waitMs);
        long hugeAfterWait = AnonHugeKiB();

        // The only memory the timed loop reads at random is the peer's: each read's block comes from
        // a table of addresses on huge pages (the same for every peer, a few TLB entries), indexed by
        // an xorshift drawn inside the loop, so no 4 KiB-paged harness array costs TLB misses.
        byte** table = AddressTable(blocks, sizes, out nuint tableBytes);
        ulong x = 0x9E3779B97F4A7C15UL;
        long sum = 0;
        long t1 = Stopwatch.GetTimestamp();
        for (int k = 0; k < reads; k++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            sum += *table[(int)(((x >> 32) * (ulong)count) >> 32)];
        }
        double readNs = Stopwatch.GetElapsedTime(t1).TotalNanoseconds / reads;
        GC.KeepAlive(sum);
        Allocator.Os.Pages.Unmap(table, tableBytes);
        long rss = Harness.ProcStatus.RssKiB();

        for (int i = 0; i < count; i++) peer.Free(blocks[i], (nuint)sizes[i]);
        return new HugePageRunResult(written, count, allocateMs, faults, hugeAfterWrite, hugeAfterWait, waitMs, readNs, rss);
    }

    // The middle byte of every block, in a 2 MiB-aligned mapping advised huge (4 KiB pages where THP is off).
    private static byte** AddressTable<TBlock>(TBlock[] blocks, int[] sizes, out nuint bytes)
    {
        if (typeof(TBlock) != typeof(nint))
            throw new NotSupportedException($"The hugepage run reads blocks by address; a peer handing out {typeof(TBlock).Name} has none.");
        const nuint Huge = 2 << 20;
        bytes = ((nuint)blocks.Length * (nuint)sizeof(nint) + Huge - 1) & ~(Huge - 1);
        var table = (byte**)Allocator.Os.Pages.Map(null, bytes, Huge, commit: true);
        if (table == null) throw new OutOfMemoryException("The hugepage run could not map its address table.");
        if (OperatingSystem.IsLinux()) _ = Madvise(table, bytes, MadvHugePage);
        for (int i = 0; i < blocks.Length; i++) table[i] = (byte*)Unsafe.As<TBlock, nint>(ref blocks[i]) + (sizes[i] >> 1);
        return table;
    }

    private const int MadvHugePage = 14;

    [DllImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static extern int Madvise(void* address, nuint length, int advice);

    /// <summary>Minor page faults of this process so far (field 10 of /proc/self/stat).</summary>
    public static long MinorFaults()
    {
        string stat = File.ReadAllText("/proc/self/stat");
        // The command name (field 2) is in parentheses and may hold spaces: count from after it.
        string[] rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(rest[7], CultureInfo.InvariantCulture);
    }

    private static long AnonHugeKiB()
    {
        foreach (string line in File.ReadLines("/proc/self/smaps_rollup"))
        {
            if (!line.StartsWith("AnonHugePages:", StringComparison.Ordinal)) continue;
            ReadOnlySpan<char> v = line.AsSpan("AnonHugePages:".Length).Trim();
            return long.Parse(v[..v.IndexOf(' ')], CultureInfo.InvariantCulture);
        }

        return 0;
    }
}
