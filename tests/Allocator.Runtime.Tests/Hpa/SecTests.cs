using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using Allocator.Hpa;
using Allocator.Metadata;

namespace Allocator.Tests.Hpa;

/// <summary>The small extent cache's assertions from jemalloc 5.3's sec unit test, over a fallback that bump-allocates and counts.</summary>
public sealed unsafe class SecTests : IDisposable
{
    private static readonly nuint Page = Allocator.Os.Pages.PageSize;

    private readonly CountingFallback _fallback = new();

    public void Dispose() => _fallback.Dispose();

    private sealed class CountingFallback : ISecFallback, IDisposable
    {
        public int Allocs, AllocBatches, Frees, FreeBatches, BatchFreed;
        private nuint _next = 1 << 30;
        private readonly List<nint> _edatas = new();

        public Edata* Alloc(nuint size, nuint alignment, bool zero)
        {
            Allocs++;
            return Make(size);
        }

        public int AllocBatch(nuint size, int count, Edata** results)
        {
            AllocBatches++;
            for (int i = 0; i < count; i++) results[i] = Make(size);
            return count;
        }

        public void Free(Edata* e) => Frees++;

        public void FreeBatch(Edata* chain)
        {
            FreeBatches++;
            for (Edata* e = chain; e != null; e = e->ListNext) BatchFreed++;
        }

        private Edata* Make(nuint size)
        {
            var e = (Edata*)NativeMemory.AlignedAlloc(128, 128);
            e->Init(0, (void*)_next, size, false, Edata.NoSizeIndex, 0, ExtentState.Active, false, true, false);
            _next += size;
            _edatas.Add((nint)e);
            return e;
        }

        public void Dispose()
        {
            foreach (nint e in _edatas) NativeMemory.AlignedFree((void*)e);
        }
    }

    private static SecOptions Options(int maxBytesPages, int extra = 0, int nshards = 1, int maxAllocPages = 8) => new()
    {
        NShards = nshards,
        MaxAlloc = (nuint)maxAllocPages * Page,
        MaxBytes = (nuint)maxBytesPages * Page,
        BytesAfterFlush = (nuint)maxBytesPages * Page / 2,
        BatchFillExtra = extra,
    };

    [Fact]
    public void Freed_extents_come_back_last_in_first_out_per_size()
    {
        var sec = new Sec(_fallback, Options(100, extra: 4));
        var one = new nint[11];
        var two = new nint[11];
        for (int i = 0; i < 11; i++)
        {
            one[i] = (nint)sec.Alloc(Page, Page, false);
            two[i] = (nint)sec.Alloc(2 * Page, Page, false);
        }

        Assert.Equal(0, _fallback.Allocs);
        Assert.True(_fallback.AllocBatches > 0);
        for (int i = 10; i >= 0; i--)
        {
            sec.Free((Edata*)one[i]);
            sec.Free((Edata*)two[i]);
        }

        Assert.Equal(0, _fallback.Frees + _fallback.FreeBatches);
        for (int i = 0; i < 11; i++)
        {
            Assert.Equal(one[i], (nint)sec.Alloc(Page, Page, false));
            Assert.Equal(two[i], (nint)sec.Alloc(2 * Page, Page, false));
        }
    }

    [Fact]
    public void Going_over_the_byte_limit_flushes_through_the_batch_free()
    {
        var sec = new Sec(_fallback, Options(10));
        var e = new nint[11];
        for (int i = 0; i < 11; i++) e[i] = (nint)sec.Alloc(Page, Page, false);
        for (int i = 0; i < 10; i++) sec.Free((Edata*)e[i]);
        Assert.Equal(0, _fallback.FreeBatches);
        Assert.Equal(10 * (long)Page, sec.Bytes);
        sec.Free((Edata*)e[10]);
        Assert.Equal(1, _fallback.FreeBatches);
        Assert.Equal(11, _fallback.BatchFreed);
        Assert.Equal(0, _fallback.Frees);
        Assert.Equal(0, sec.Bytes);
    }

    [Fact]
    public void Flush_keeps_caching_and_disable_passes_frees_through()
    {
        var sec = new Sec(_fallback, Options(100));
        Edata* a = sec.Alloc(Page, Page, false), b = sec.Alloc(Page, Page, false), c = sec.Alloc(Page, Page, false);
        sec.Free(a);
        sec.Flush();
        Assert.Equal((1, 1, 0L), (_fallback.FreeBatches, _fallback.BatchFreed, sec.Bytes));
        sec.Free(b);
        Assert.Equal(0, _fallback.Frees);
        Assert.Equal((long)Page, sec.Bytes);
        sec.Disable();
        Assert.Equal((2, 2, 0L), (_fallback.FreeBatches, _fallback.BatchFreed, sec.Bytes));
        sec.Free(c);
        Assert.Equal(1, _fallback.Frees);
        Assert.Equal(0, sec.Bytes);
    }

    [Fact]
    public void Extents_above_the_maximum_bypass_the_cache()
    {
        var sec = new Sec(_fallback, Options(100, maxAllocPages: 2));
        for (int i = 0; i < 100; i++) sec.Free(sec.Alloc(3 * Page, Page, false));
        Assert.Equal((100, 100), (_fallback.Allocs, _fallback.Frees));
        Assert.Equal(0, sec.Bytes);
    }

    [Fact]
    public void No_shards_means_no_cache()
    {
        var sec = new Sec(_fallback, Options(100, nshards: 0));
        sec.Free(sec.Alloc(Page, Page, false));
        Assert.Equal((1, 1), (_fallback.Allocs, _fallback.Frees));
    }

    [Fact]
    public void Zeroed_and_aligned_requests_bypass_the_cache()
    {
        var sec = new Sec(_fallback, Options(100));
        sec.Free(sec.Alloc(Page, Page, false));
        Assert.Equal(1, _fallback.Allocs);
        sec.Alloc(Page, Page, zero: true);
        sec.Alloc(Page, 2 * Page, zero: false);
        Assert.Equal(3, _fallback.Allocs);
        Assert.Equal((long)Page, sec.Bytes);
    }

    [Fact]
    public void Bytes_follow_frees_allocations_and_flushes()
    {
        var sec = new Sec(_fallback, Options(100));
        var e = new nint[5];
        for (int i = 0; i < 5; i++) e[i] = (nint)sec.Alloc((nuint)(i + 1) * Page, Page, false);
        long expected = 0;
        for (int i = 0; i < 5; i++)
        {
            sec.Free((Edata*)e[i]);
            expected += (i + 1) * (long)Page;
            Assert.Equal(expected, sec.Bytes);
        }

        sec.Alloc(3 * Page, Page, false);
        Assert.Equal(expected - 3 * (long)Page, sec.Bytes);
        sec.Flush();
        Assert.Equal(0, sec.Bytes);
    }
}
