using System.Diagnostics;
using Allocator.Bench.Harness;
using Allocator.Bench.Peers;

namespace Allocator.Bench.Workloads;

/// <summary>
/// A heap that stays populated: fill <see cref="LiveSetPlan.LiveBlocks"/> blocks (untimed), then
/// each timed operation frees a random live block and allocates a random size in its place, then
/// everything is freed (untimed). Every run starts from the same state and replays the same
/// sequence.
/// </summary>
public sealed class LiveSetRun<TPeer, TBlock>(TPeer peer, LiveSetPlan plan) : ITimedRun
    where TPeer : struct, IPeer<TBlock>
{
    private readonly TBlock[] _blocks = new TBlock[plan.LiveBlocks];
    private readonly ushort[] _sizes = new ushort[plan.LiveBlocks];

    public long Operations => plan.Slots.Length;

    public long Run()
    {
        TPeer p = peer;
        TBlock[] blocks = _blocks;
        ushort[] live = _sizes;
        ushort[] initial = plan.InitialSizes;
        for (int i = 0; i < blocks.Length; i++)
        {
            blocks[i] = p.Allocate(initial[i]);
            p.Write(blocks[i], 0, 1);
            live[i] = initial[i];
        }

        int[] slots = plan.Slots;
        ushort[] sizes = plan.Sizes;
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < slots.Length; i++)
        {
            int slot = slots[i];
            p.Free(blocks[slot], live[slot]);
            ushort size = sizes[i];
            TBlock block = p.Allocate(size);
            p.Write(block, 0, (byte)i);
            blocks[slot] = block;
            live[slot] = size;
        }
        long elapsed = Stopwatch.GetTimestamp() - start;

        for (int i = 0; i < blocks.Length; i++)
        {
            p.Free(blocks[i], live[i]);
            blocks[i] = default!;
        }
        return elapsed;
    }

    public void Dispose() { }
}
