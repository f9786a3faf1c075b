using System.Collections.Generic;
using System.Threading.Tasks;
using Allocator.Tests.Infrastructure;

namespace Allocator.Tests.Metadata;

using Allocator.Metadata;
using Base = Allocator.Metadata.Base;

/// <summary>The locked edata cache: jemalloc 5.3's test/unit/edata_cache.c and the reuse order of reference 1.4/1.5.</summary>
public unsafe class EdataCacheTests
{
    [Fact]
    public void Get_put_and_count_as_in_edata_cache_c()
    {
        using var b = new Base(new TestExtentHooks(retain: true));
        var cache = new EdataCache(b);

        Edata* ed1 = cache.Get();
        Assert.True(ed1 != null);
        Assert.Equal(0, cache.Count);
        Edata* ed2 = cache.Get();
        Assert.True(ed2 != null && ed2 != ed1);
        Assert.Equal(0, cache.Count);

        cache.Put(ed1);
        Assert.Equal(1, cache.Count);

        Edata* again = cache.Get();
        Assert.True(again == ed1);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void Only_an_empty_cache_draws_from_base()
    {
        using var b = new Base(new TestExtentHooks(retain: true));
        var cache = new EdataCache(b);
        Edata* e = cache.Get();
        nuint allocated = b.Allocated;

        cache.Put(e);
        Assert.True(cache.Get() == e);
        Assert.Equal(allocated, b.Allocated);

        Assert.True(cache.Get() != null);
        Assert.Equal(allocated + 128, b.Allocated);
    }

    [Fact]
    public void The_oldest_metadata_is_reused_first()
    {
        // Reference 1.4/1.5: the cache is a heap ordered by (esn, address) and get takes its minimum.
        using var b = new Base(new TestExtentHooks(retain: true));
        var cache = new EdataCache(b);
        Edata* e1 = cache.Get(), e2 = cache.Get(), e3 = cache.Get();
        Assert.True(e1->Esn < e2->Esn && e2->Esn < e3->Esn);

        cache.Put(e3);
        cache.Put(e1);
        cache.Put(e2);

        Assert.True(cache.Get() == e1, "expected the lowest esn first");
        Assert.True(cache.Get() == e2);
        Assert.True(cache.Get() == e3);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void Concurrent_gets_and_puts_never_hand_one_struct_to_two_owners()
    {
        using var b = new Base(new TestExtentHooks(retain: true));
        var cache = new EdataCache(b);
        const int Threads = 2, Rounds = 2000, Held = 8;
        var owners = new Dictionary<nuint, int>();
        var gate = new object();

        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t =>
        {
            var mine = new nuint[Held];
            for (int round = 0; round < Rounds; round++)
            {
                for (int i = 0; i < Held; i++)
                {
                    mine[i] = (nuint)cache.Get();
                    lock (gate)
                    {
                        Assert.False(owners.ContainsKey(mine[i]), "one edata handed to two owners");
                        owners[mine[i]] = t;
                    }
                }

                for (int i = 0; i < Held; i++)
                {
                    lock (gate) owners.Remove(mine[i]);
                    cache.Put((Edata*)mine[i]);
                }
            }
        });

        Assert.Empty(owners);
        Assert.InRange(cache.Count, Held, Threads * Held); // every struct back; none made beyond the peak demand
    }
}
