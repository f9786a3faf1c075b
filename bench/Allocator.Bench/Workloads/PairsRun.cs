using System.Diagnostics;
using Allocator.Bench.Harness;
using Allocator.Bench.Peers;

namespace Allocator.Bench.Workloads;

/// <summary>Allocate a block of one size, write its first byte, free it; repeated.</summary>
public sealed class PairsRun<TPeer, TBlock>(TPeer peer, nuint size, int pairs) : ITimedRun
    where TPeer : struct, IPeer<TBlock>
{
    public long Operations => pairs;

    public long Run()
    {
        // Locals, so that the JIT keeps the peer's function pointers in registers.
        TPeer p = peer;
        nuint s = size;
        int n = pairs;
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < n; i++)
        {
            TBlock block = p.Allocate(s);
            p.Write(block, 0, (byte)i);
            p.Free(block, s);
        }
        return Stopwatch.GetTimestamp() - start;
    }

    public void Dispose() { }
}
