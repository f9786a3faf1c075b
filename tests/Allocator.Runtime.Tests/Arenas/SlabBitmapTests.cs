using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using CsCheck;

namespace Allocator.Tests.Arenas;

public sealed unsafe class SlabBitmapTests
{
    [Fact]
    public void Fits_the_64_byte_slab_data_union_of_edata()
    {
        // Eight words of bits and nothing else: it lives in Edata's 64-byte union at offset 64.
        Assert.Equal(64, sizeof(SlabBitmap));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(200)]
    [InlineData(511)]
    [InlineData(512)]
    public void Allocates_every_region_lowest_first_then_reports_full(int bits)
    {
        SlabBitmap map = default;
        map.Init(bits);
        Assert.Equal(0, map.CountSet(bits));
        Assert.Equal(0, map.FindFirstUnset());
        for (int i = 0; i < bits; i++)
        {
            Assert.False(map.IsSet(i));
            Assert.Equal(i, map.FindFirstAndSet());
            Assert.True(map.IsSet(i));
        }

        Assert.Equal(bits, map.CountSet(bits));
        Assert.Equal(-1, map.FindFirstAndSet());
        Assert.Equal(-1, map.FindFirstUnset());
        Assert.Equal(bits, map.CountSet(bits));
    }

    [Fact]
    public void Freed_regions_are_reused_lowest_first()
    {
        SlabBitmap map = default;
        map.Init(300);
        for (int i = 0; i < 300; i++)
        {
            map.FindFirstAndSet();
        }

        map.Unset(250);
        map.Unset(70);
        map.Unset(130);
        Assert.Equal(297, map.CountSet(300));
        Assert.Equal(70, map.FindFirstUnset());
        Assert.Equal(130, map.FindFirstUnset(71));
        Assert.Equal(250, map.FindFirstUnset(131));
        Assert.Equal(-1, map.FindFirstUnset(251));
        Assert.Equal(-1, map.FindFirstUnset(300));
        Assert.Equal(70, map.FindFirstAndSet());
        Assert.Equal(130, map.FindFirstAndSet());
        Assert.Equal(250, map.FindFirstAndSet());
        Assert.Equal(-1, map.FindFirstAndSet());
    }

    [Fact]
    public void TryUnset_catches_double_frees_and_out_of_range_indices()
    {
        SlabBitmap map = default;
        map.Init(10);
        map.Set(3);
        Assert.True(map.TryUnset(3));
        Assert.False(map.TryUnset(3));
        Assert.False(map.TryUnset(-1));
        Assert.False(map.TryUnset(SlabBitmap.MaxBits));
        Assert.False(map.TryUnset(int.MinValue));
        Assert.Equal(0, map.CountSet(10));
    }

    [Fact]
    public void Padding_reads_as_allocated_and_is_not_counted()
    {
        // The region count lives with the caller, which bounds indices by it before TryUnset.
        SlabBitmap map = default;
        map.Init(10);
        for (int i = 10; i < SlabBitmap.MaxBits; i++)
        {
            Assert.True(map.IsSet(i));
        }

        Assert.Equal(0, map.CountSet(10));
        Assert.Equal(0, map.CountSet(0));
        Assert.Equal(SlabBitmap.MaxBits - 10, map.CountSet(SlabBitmap.MaxBits));
        Assert.Throws<ArgumentOutOfRangeException>(() => map.CountSet(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => map.CountSet(SlabBitmap.MaxBits + 1));
    }

    [Fact]
    public void Init_rejects_bad_sizes_and_resets()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => { SlabBitmap m = default; m.Init(0); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { SlabBitmap m = default; m.Init(SlabBitmap.MaxBits + 1); });
        SlabBitmap map = default;
        map.Init(512);
        map.FindFirstAndSet();
        map.Init(5);
        Assert.Equal(0, map.CountSet(5));
        Assert.Equal(SlabBitmap.MaxBits - 5, map.CountSet(SlabBitmap.MaxBits));
        Assert.Equal(0, map.FindFirstAndSet());
    }

    [Fact]
    public void Behaves_like_a_set_model()
    {
        // Operations (kind, argument) on a bitmap in native memory and on a HashSet<int> of allocated regions.
        var operations = Gen.Select(Gen.Int[0, 5], Gen.Int[0, SlabBitmap.MaxBits]).Array[0, 600];
        Gen.Select(Gen.Int[1, SlabBitmap.MaxBits], operations).Sample((bits, ops) =>
        {
            SlabBitmap* map = (SlabBitmap*)NativeMemory.AllocZeroed((nuint)sizeof(SlabBitmap));
            try
            {
                map->Init(bits);
                var allocated = new HashSet<int>();
                foreach ((int kind, int argument) in ops)
                {
                    int bit = argument % bits;
                    switch (kind)
                    {
                        case 0:
                        case 1:
                        {
                            int expected = LowestFree(allocated, bits, 0);
                            Assert.Equal(expected, map->FindFirstAndSet());
                            if (expected >= 0)
                            {
                                allocated.Add(expected);
                            }

                            break;
                        }

                        case 2:
                            Assert.Equal(allocated.Remove(bit), map->TryUnset(bit));
                            break;

                        case 3:
                            if (allocated.Remove(bit))
                            {
                                map->Unset(bit);
                            }
                            else if (allocated.Add(bit))
                            {
                                map->Set(bit);
                            }

                            break;

                        default:
                        {
                            int from = argument % (bits + 1);
                            Assert.Equal(LowestFree(allocated, bits, from), map->FindFirstUnset(from));
                            break;
                        }
                    }

                    Assert.Equal(allocated.Contains(bit), map->IsSet(bit));
                    Assert.Equal(allocated.Count, map->CountSet(bits));
                    Assert.Equal(allocated.Count == bits, map->FindFirstUnset() == -1);
                }

                for (int i = 0; i < bits; i++)
                {
                    Assert.Equal(allocated.Contains(i), map->IsSet(i));
                }
            }
            finally
            {
                NativeMemory.Free(map);
            }
        });
    }

    [Fact]
    public void Find_and_unset_allocate_nothing_on_the_gc_heap()
    {
        SlabBitmap* map = (SlabBitmap*)NativeMemory.AllocZeroed((nuint)sizeof(SlabBitmap));
        try
        {
            map->Init(SlabBitmap.MaxBits);
            Churn(map, 100);
            long before = GC.GetAllocatedBytesForCurrentThread();
            Churn(map, 10_000);
            long after = GC.GetAllocatedBytesForCurrentThread();
            Assert.Equal(0, after - before);
        }
        finally
        {
            NativeMemory.Free(map);
        }
    }

    private static void Churn(SlabBitmap* map, int rounds)
    {
        for (int round = 0; round < rounds; round++)
        {
            int bit;
            while ((bit = map->FindFirstAndSet()) >= 0)
            {
                _ = map->IsSet(bit);
            }

            for (int i = round % 7; i < SlabBitmap.MaxBits; i += 3)
            {
                map->Unset(i);
            }

            for (int i = 0; i < SlabBitmap.MaxBits; i++)
            {
                map->TryUnset(i);
            }
        }
    }

    private static int LowestFree(HashSet<int> allocated, int bits, int from)
    {
        for (int i = from; i < bits; i++)
        {
            if (!allocated.Contains(i))
            {
                return i;
            }
        }

        return -1;
    }
}
