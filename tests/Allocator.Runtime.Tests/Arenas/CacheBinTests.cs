using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using CsCheck;

namespace Allocator.Tests.Arenas;

public sealed unsafe class CacheBinTests
{
    [Fact]
    public void Pops_in_reverse_push_order()
    {
        using var bin = new NativeBin(4);
        for (nint i = 1; i <= 4; i++)
        {
            Assert.True(bin.Bin->TryPush((void*)Item(i)));
        }

        Assert.True(bin.Bin->IsFull);
        Assert.False(bin.Bin->TryPush((void*)Item(5)));
        Assert.Equal(4, bin.Bin->Count);
        for (nint i = 4; i >= 1; i--)
        {
            Assert.True(bin.Bin->TryPop(out void* item));
            Assert.Equal(Item(i), (nint)item);
        }

        Assert.False(bin.Bin->TryPop(out void* none));
        Assert.True(none == null);
        Assert.Equal(0, bin.Bin->Count);
    }

    [Fact]
    public void PopAboveLowWater_stops_at_the_mark_and_leaves_that_pop_to_Pop()
    {
        // The large-class hit pops with PopAboveLowWater and sends a pop at the mark to the slow path:
        // there it must take nothing and leave the mark, so that Pop still sees the pop and moves it.
        using var bin = new NativeBin(4);
        bin.Bin->TryPush((void*)Item(1));
        bin.Bin->TryPush((void*)Item(2));
        bin.Bin->ResetLowWater();
        Assert.True(bin.Bin->PopAboveLowWater() == null);
        Assert.Equal(2, bin.Bin->Count);
        Assert.Equal(2, bin.Bin->LowWater);

        Assert.Equal(Item(2), (nint)bin.Bin->Pop());
        Assert.Equal(1, bin.Bin->LowWater);
        bin.Bin->TryPush((void*)Item(3));
        Assert.Equal(Item(3), (nint)bin.Bin->PopAboveLowWater());
        Assert.Equal(1, bin.Bin->LowWater);
        Assert.True(bin.Bin->PopAboveLowWater() == null);
        Assert.Equal(Item(1), (nint)bin.Bin->Pop());
        Assert.True(bin.Bin->PopAboveLowWater() == null);
        Assert.Equal(0, bin.Bin->Count);
    }

    [Fact]
    public void Is_four_pointers_so_the_hot_paths_index_bins_with_a_shift()
    {
        Assert.Equal(4 * sizeof(void*), sizeof(CacheBin));
    }

    [Fact]
    public void Zero_capacity_bin_caches_nothing()
    {
        CacheBin bin = default;
        bin.Init(null, 0);
        Assert.Equal(0, bin.Capacity);
        Assert.True(bin.IsFull);
        Assert.False(bin.TryPush((void*)Item(1)));
        Assert.False(bin.TryPop(out _));
        Assert.Equal(0, bin.Fill(null, 0));
        Assert.Equal(0, bin.FlushTo(null, 5));
    }

    [Fact]
    public void Init_rejects_bad_arguments()
    {
        void** slots = stackalloc void*[1];
        Assert.Throws<ArgumentOutOfRangeException>(() => { CacheBin b = default; b.Init(slots, -1); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { CacheBin b = default; b.Init(slots, CacheBin.MaxCapacity + 1); });
        Assert.Throws<ArgumentNullException>(() => { CacheBin b = default; b.Init(null, 1); });
    }

    [Fact]
    public void Fill_pops_in_batch_order_and_takes_only_what_fits()
    {
        using var bin = new NativeBin(4);
        Assert.True(bin.Bin->TryPush((void*)Item(100)));
        void** batch = stackalloc void*[5];
        for (int i = 0; i < 5; i++)
        {
            batch[i] = (void*)Item(i + 1);
        }

        Assert.Equal(3, bin.Bin->Fill(batch, 5));
        Assert.True(bin.Bin->IsFull);
        Assert.Equal(0, bin.Bin->Fill(batch + 3, 2));
        foreach (nint expected in new nint[] { Item(1), Item(2), Item(3), Item(100) })
        {
            Assert.True(bin.Bin->TryPop(out void* item));
            Assert.Equal(expected, (nint)item);
        }
    }

    [Fact]
    public void Flush_takes_the_oldest_first_and_keeps_the_newest()
    {
        using var bin = new NativeBin(8);
        for (nint i = 1; i <= 5; i++)
        {
            bin.Bin->TryPush((void*)Item(i));
        }

        void** flushed = stackalloc void*[8];
        Assert.Equal(2, bin.Bin->FlushTo(flushed, 2));
        Assert.Equal(Item(1), (nint)flushed[0]);
        Assert.Equal(Item(2), (nint)flushed[1]);
        Assert.Equal(3, bin.Bin->Count);
        foreach (nint expected in new nint[] { Item(5), Item(4), Item(3) })
        {
            Assert.True(bin.Bin->TryPop(out void* item));
            Assert.Equal(expected, (nint)item);
        }

        Assert.Equal(0, bin.Bin->FlushTo(flushed, 2));
    }

    [Fact]
    public void Low_water_is_the_fewest_items_since_reset()
    {
        using var bin = new NativeBin(16);
        Assert.Equal(0, bin.Bin->LowWater);
        for (nint i = 1; i <= 5; i++)
        {
            bin.Bin->TryPush((void*)Item(i));
        }

        Assert.Equal(0, bin.Bin->LowWater);
        bin.Bin->ResetLowWater();
        Assert.Equal(5, bin.Bin->LowWater);
        bin.Bin->TryPop(out _);
        bin.Bin->TryPop(out _);
        Assert.Equal(3, bin.Bin->LowWater);
        for (nint i = 0; i < 4; i++)
        {
            bin.Bin->TryPush((void*)Item(10 + i));
        }

        Assert.Equal(3, bin.Bin->LowWater);
        bin.Bin->TryPop(out _);
        Assert.Equal(3, bin.Bin->LowWater);

        void** flushed = stackalloc void*[16];
        bin.Bin->FlushTo(flushed, 5);
        Assert.Equal(1, bin.Bin->Count);
        Assert.Equal(1, bin.Bin->LowWater);
        bin.Bin->ResetLowWater();
        Assert.Equal(1, bin.Bin->LowWater);
    }

    [Fact]
    public void Behaves_like_a_stack_model()
    {
        // Each operation is (kind, argument); the bin and a Stack<nint> model run side by side.
        var operations = Gen.Select(Gen.Int[0, 6], Gen.Int[0, 40]).Array[0, 200];
        Gen.Select(Gen.Int[0, 24], operations).Sample((capacity, ops) =>
        {
            using var native = new NativeBin(capacity);
            CacheBin* bin = native.Bin;
            var model = new Stack<nint>();
            int lowWater = 0;
            nint nextItem = 1;
            void** batch = stackalloc void*[41];

            foreach ((int kind, int argument) in ops)
            {
                switch (kind)
                {
                    case 0:
                    case 1:
                    {
                        nint item = Item(nextItem++);
                        bool fits = model.Count < capacity;
                        Assert.Equal(fits, bin->TryPush((void*)item));
                        if (fits)
                        {
                            model.Push(item);
                        }

                        break;
                    }

                    case 2:
                    case 3:
                    {
                        bool any = model.Count > 0;
                        Assert.Equal(any, bin->TryPop(out void* item));
                        Assert.Equal(any ? model.Pop() : 0, (nint)item);
                        lowWater = Math.Min(lowWater, model.Count);
                        break;
                    }

                    case 4:
                    {
                        for (int i = 0; i < argument; i++)
                        {
                            batch[i] = (void*)Item(nextItem++);
                        }

                        int taken = Math.Min(argument, capacity - model.Count);
                        Assert.Equal(taken, bin->Fill(batch, argument));
                        for (int i = taken - 1; i >= 0; i--)
                        {
                            model.Push((nint)batch[i]);
                        }

                        break;
                    }

                    case 5:
                    {
                        nint[] topFirst = model.ToArray();
                        int n = Math.Min(argument, topFirst.Length);
                        Assert.Equal(n, bin->FlushTo(batch, argument));
                        for (int i = 0; i < n; i++)
                        {
                            Assert.Equal(topFirst[topFirst.Length - 1 - i], (nint)batch[i]);
                        }

                        model = new Stack<nint>(topFirst[..(topFirst.Length - n)].AsEnumerable().Reverse());
                        lowWater = Math.Min(lowWater, model.Count);
                        break;
                    }

                    default:
                        bin->ResetLowWater();
                        lowWater = model.Count;
                        break;
                }

                Assert.Equal(model.Count, bin->Count);
                Assert.Equal(lowWater, bin->LowWater);
                Assert.Equal(model.Count == capacity, bin->IsFull);
            }

            // Whatever is left comes out newest first.
            while (model.Count > 0)
            {
                Assert.True(bin->TryPop(out void* item));
                Assert.Equal(model.Pop(), (nint)item);
            }

            Assert.False(bin->TryPop(out _));
        });
    }

    [Fact]
    public void Push_and_pop_allocate_nothing_on_the_gc_heap()
    {
        using var native = new NativeBin(64);
        CacheBin* bin = native.Bin;
        void** batch = stackalloc void*[32];
        for (int i = 0; i < 32; i++)
        {
            batch[i] = (void*)Item(i + 1);
        }

        Churn(bin, batch, 1_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Churn(bin, batch, 100_000);
        long after = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(0, after - before);
    }

    private static void Churn(CacheBin* bin, void** batch, int rounds)
    {
        for (int round = 0; round < rounds; round++)
        {
            for (int i = 0; i < 48; i++)
            {
                bin->TryPush(batch[i & 31]);
            }

            for (int i = 0; i < 40; i++)
            {
                bin->TryPop(out _);
            }

            bin->FlushTo(batch, 4);
            bin->Fill(batch, 4);
            bin->ResetLowWater();
            while (bin->TryPop(out _))
            {
            }
        }
    }

    // Fake, distinct, non-null "regions": the bin never dereferences what it caches.
    private static nint Item(nint id) => id * 16;

    // A bin and its slots in native memory, as a thread cache lays them out.
    private sealed class NativeBin : IDisposable
    {
        private readonly void** _slots;

        public NativeBin(int capacity)
        {
            Bin = (CacheBin*)NativeMemory.AllocZeroed((nuint)sizeof(CacheBin));
            _slots = (void**)NativeMemory.Alloc((nuint)Math.Max(capacity, 1), (nuint)sizeof(void*));
            Bin->Init(_slots, capacity);
        }

        public CacheBin* Bin { get; }

        public void Dispose()
        {
            NativeMemory.Free(_slots);
            NativeMemory.Free(Bin);
        }
    }
}
