using Allocator.Bench.Peers;

namespace Allocator.Bench.Suite;

/// <summary>
/// MicroQuill's sh6bench as mimalloc-bench patches it (2 × procs threads, blocks of 1..1000 B,
/// first and last byte written): each thread allocates bursts of one size (250 blocks below 100 B,
/// 50 below 1000) into a buffer of C pointers; when the buffer is full it keeps a window of C/5
/// blocks and frees the blocks below the window in allocation order and those above it in reverse.
/// </summary>
/// <remarks>The call count is 1,000, the unpatched program's (mimalloc-bench's 10,000 takes
/// minutes here); the shape is unchanged.</remarks>
internal static class Sh6bench
{
    private const int CallCount = 1000;

    public static double Run<TPeer, TBlock>(TPeer peer, SuiteScale scale) where TPeer : struct, IPeer<TBlock>
    {
        int threads = 2 * SuiteScale.Procs;
        int perThread = scale.Count(CallCount, threads * 5) / threads;
        return Threads.Run(threads, _ => Thread<TPeer, TBlock>(peer, perThread));
    }

    private static void Thread<TPeer, TBlock>(TPeer p, int c) where TPeer : struct, IPeer<TBlock>
    {
        var buffer = new TBlock[c];
        var sizes = new nuint[c];
        int end = c, mp = 0, saveStart = end, saveEnd = end;
        for (int repeat = 0; repeat < c; repeat++)
        {
            for (nuint sizeBase = 1; sizeBase < 1000; sizeBase = sizeBase * 3 / 2 + 1)
            {
                for (nuint size = sizeBase; size > 0; size /= 2)
                {
                    int iterations = size < 100 ? 250 : size < 1000 ? 50 : size < 10000 ? 10 : 1;
                    for (int i = 0; i < iterations; i++)
                    {
                        TBlock b = p.Allocate(size);
                        p.Write(b, 0, 1);
                        p.Write(b, size - 1, 2);
                        buffer[mp] = b;
                        sizes[mp] = size;
                        mp++;
                        if (mp == saveStart)
                            mp = saveEnd;
                        if (mp < end)
                            continue;

                        // The buffer is full: move the window on, free below it in allocation
                        // order and above it in reverse; the window's blocks stay.
                        saveStart = saveEnd == end ? 0 : saveEnd;
                        saveEnd = System.Math.Min(end, saveStart + c / 5);
                        for (int k = 0; k < saveStart; k++)
                            p.Free(buffer[k], sizes[k]);
                        for (int k = end - 1; k >= saveEnd; k--)
                            p.Free(buffer[k], sizes[k]);
                        mp = saveStart == 0 ? saveEnd : 0;
                    }
                }
            }
        }
        // Everything still held: the blocks written since the last cycle and the window.
        for (int k = 0; k < mp; k++)
            if (k < saveStart || k >= saveEnd)
                p.Free(buffer[k], sizes[k]);
        for (int k = saveStart; k < saveEnd; k++)
            p.Free(buffer[k], sizes[k]);
    }
}
