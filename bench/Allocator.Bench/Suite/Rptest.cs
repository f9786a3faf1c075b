using System;
using System.Collections.Concurrent;
using System.Threading;
using Allocator.Bench.Peers;

namespace Allocator.Bench.Suite;

/// <summary>
/// rpmalloc's benchmark as mimalloc-bench runs it (<c>N 0 1 2 500 1000 100 8 16000</c>): per
/// thread 1,000 slots, two passes of 500 loops; each loop frees 24..79 slots at a stride of 11,
/// frees the blocks other threads sent it, allocates 30..99 blocks (8..16,000 B, small sizes more
/// likely) into slots at a stride of 7, and on every second loop sends a packet of as many blocks
/// to the next thread. Every block is cleared or filled (calloc, or memalign and memset), and its
/// size, one byte per interior page and its last byte are written.
/// </summary>
/// <remarks>
/// Differences from the C program: the fixed tables of the original are drawn here from a seeded
/// generator with the same ranges; aligned requests (8 or 16) are plain allocations, since every
/// peer aligns blocks of 16 B and more to 16; a packet and its pointer array are managed objects
/// (the original allocates those two from the allocator too); the time is the wall time of all
/// threads rather than the sum of each thread's timed sections.
/// </remarks>
internal static class Rptest
{
    private const int Slots = 1000, Loops = 500, Passes = 2, OpCount = 100, MinSize = 8, MaxSize = 16000;
    private const int SizeTable = 2000, AllocTable = 311, FreeTable = 257, AllocStride = 7, FreeStride = 11;

    private sealed class Packet<TBlock>(int count)
    {
        public readonly TBlock[] Blocks = new TBlock[count];
        public readonly nuint[] Sizes = new nuint[count];
    }

    public static double Run<TPeer, TBlock>(TPeer peer, SuiteScale scale) where TPeer : struct, IPeer<TBlock>
    {
        var random = new Random(20260404);
        var uniform = new int[SizeTable];
        for (int i = 0; i < SizeTable; i++)
            uniform[i] = MinSize + (int)Math.Round((MaxSize - MinSize) * (random.Next(100_000) / 100_000.0));
        // The "linear drop-off" table: small sizes are more likely.
        var sizes = new nuint[SizeTable];
        const double range = MaxSize - MinSize;
        for (int i = 0; i < SizeTable; i++)
        {
            double w0 = 1 - (uniform[i] - MinSize) / range, w1 = 1 - (uniform[(i + 1) % SizeTable] - MinSize) / range;
            sizes[i] = (nuint)(MinSize + (uniform[(i + 2) % SizeTable] - MinSize) * Math.Abs(w0 + w1 - 1));
        }
        var allocOps = new int[AllocTable];
        for (int i = 0; i < AllocTable; i++)
            allocOps[i] = random.Next(30, 100) * OpCount / 100;
        var freeOps = new int[FreeTable];
        for (int i = 0; i < FreeTable; i++)
            freeOps[i] = (int)(random.Next(30, 100) * 0.8 * OpCount / 100);

        int threads = SuiteScale.Procs;
        int loops = scale.Count(Loops, 4);
        var inboxes = new ConcurrentQueue<Packet<TBlock>>[threads];
        for (int i = 0; i < threads; i++)
            inboxes[i] = new ConcurrentQueue<Packet<TBlock>>();
        int finished = 0;

        return Threads.Run(threads, index =>
        {
            TPeer p = peer;
            var slots = new TBlock[Slots];
            var slotSizes = new nuint[Slots];
            int sent = 0;
            for (int pass = 0; pass < Passes; pass++)
            {
                int sizeIndex = (index + 1) * (pass + 1) * 37 % SizeTable;
                int freeIndex = 0, allocIndex = 0;
                for (int loop = 0; loop < loops; loop++)
                {
                    for (int k = freeOps[(pass + loop) % FreeTable]; k > 0; k--)
                    {
                        if (slotSizes[freeIndex] != 0)
                        {
                            p.Free(slots[freeIndex], slotSizes[freeIndex]);
                            slotSizes[freeIndex] = 0;
                        }
                        freeIndex = (freeIndex + FreeStride) % Slots;
                    }
                    Drain(p, inboxes[index]);
                    int count = allocOps[(pass + loop) % AllocTable];
                    for (int k = 0; k < count; k++)
                    {
                        if (slotSizes[allocIndex] != 0)
                            p.Free(slots[allocIndex], slotSizes[allocIndex]);
                        nuint size = sizes[(sizeIndex + 2) % SizeTable];
                        slots[allocIndex] = Allocate<TPeer, TBlock>(p, size, sizeIndex + k);
                        slotSizes[allocIndex] = size;
                        allocIndex = (allocIndex + AllocStride) % Slots;
                        sizeIndex++;
                    }
                    if (threads > 1 && loop % 2 == 0 && Volatile.Read(ref finished) == 0)
                    {
                        var packet = new Packet<TBlock>(count);
                        for (int k = 0; k < count; k++)
                        {
                            nuint size = sizes[(sizeIndex + k) % SizeTable];
                            packet.Blocks[k] = Allocate<TPeer, TBlock>(p, size, sizeIndex + k);
                            packet.Sizes[k] = size;
                        }
                        // Round robin over the other threads.
                        int target = (index + 1 + sent++ % (threads - 1)) % threads;
                        inboxes[target].Enqueue(packet);
                    }
                }
            }
            Interlocked.Increment(ref finished);
            while (Volatile.Read(ref finished) < threads)
            {
                Drain(p, inboxes[index]);
                Thread.Yield();
            }
            for (int k = 0; k < Slots; k++)
                if (slotSizes[k] != 0)
                    p.Free(slots[k], slotSizes[k]);
            Thread.Sleep(10);
            Drain(p, inboxes[index]);
        });
    }

    private static void Drain<TPeer, TBlock>(TPeer p, ConcurrentQueue<Packet<TBlock>> inbox) where TPeer : struct, IPeer<TBlock>
    {
        while (inbox.TryDequeue(out var packet))
            for (int k = 0; k < packet.Blocks.Length; k++)
                p.Free(packet.Blocks[k], packet.Sizes[k]);
    }

    /// <summary>The original's allocation: calloc, or for a third each an 8- or 16-aligned block
    /// filled with 0xCD; then the size at offset 0, a byte per interior page, the last byte.</summary>
    private static TBlock Allocate<TPeer, TBlock>(TPeer p, nuint size, int op) where TPeer : struct, IPeer<TBlock>
    {
        TBlock b = p.Allocate(size);
        p.Fill(b, size, size < 4096 && op % 3 != 0 ? (byte)0xCD : (byte)0);
        p.Write(b, 0, (byte)size);
        p.Write(b, 1, (byte)(size >> 8));
        for (nuint page = 1; page + 1 <= (size - 1) / 4096; page++)
            p.Write(b, page * 4096, 1);
        p.Write(b, size - 1, 1);
        return b;
    }
}
