using System.Threading;
using Allocator.Bench.Peers;

namespace Allocator.Bench.Suite;

/// <summary>
/// Hoard's cache-scratch and cache-thrash as mimalloc-bench runs them (<c>N 1000 1 2000000 N</c>):
/// each of N threads allocates a 1-byte object 1000 times and, per object, writes and reads its
/// byte <c>repetitions / N</c> times before freeing it. In cache-scratch every thread first frees an
/// object the main thread allocated next to the others' (passive false sharing: an allocator that
/// hands that memory to the thread shares a cache line with the other threads); cache-thrash
/// starts without it (active false sharing between objects the threads allocate at once).
/// </summary>
internal static class CacheSharing
{
    private const int Iterations = 1000;
    private const int ObjectSize = 1;

    /// <summary>2,000,000 in mimalloc-bench; scaled down so the run takes about a second.</summary>
    private const int Repetitions = 200_000;

    public static double Scratch<TPeer, TBlock>(TPeer peer, SuiteScale scale) where TPeer : struct, IPeer<TBlock> =>
        Run<TPeer, TBlock>(peer, scale, handOff: true);

    public static double Thrash<TPeer, TBlock>(TPeer peer, SuiteScale scale) where TPeer : struct, IPeer<TBlock> =>
        Run<TPeer, TBlock>(peer, scale, handOff: false);

    private static double Run<TPeer, TBlock>(TPeer peer, SuiteScale scale, bool handOff) where TPeer : struct, IPeer<TBlock>
    {
        int threads = SuiteScale.Procs;
        int perThread = scale.Count(Repetitions, 10) / threads;
        var given = new TBlock[threads];
        if (handOff)
        {
            // Back to back, so they very likely share one cache line.
            for (int i = 0; i < threads; i++)
            {
                given[i] = peer.Allocate(ObjectSize);
                peer.Write(given[i], 0, 1);
            }
        }
        long checksum = 0;
        double seconds = Threads.Run(threads, index =>
        {
            TPeer p = peer;
            if (handOff)
                p.Free(given[index], ObjectSize);
            long sum = 0;
            for (int i = 0; i < Iterations; i++)
            {
                TBlock a = p.Allocate(ObjectSize);
                for (int j = 0; j < perThread; j++)
                {
                    for (nuint k = 0; k < ObjectSize; k++)
                    {
                        p.Write(a, k, (byte)j);
                        // A store then a load of the same byte each time: the JIT keeps both,
                        // as the original's volatile access does.
                        sum += p.Read(a, k);
                    }
                }
                p.Free(a, ObjectSize);
            }
            Interlocked.Add(ref checksum, sum);
        });
        return seconds + (checksum == long.MinValue ? 1 : 0);
    }
}
