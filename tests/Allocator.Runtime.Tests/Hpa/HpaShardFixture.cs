using System;
using Allocator.Hooks;
using Allocator.Hpa;
using Allocator.Map;
using Allocator.Metadata;
using Allocator.PageAllocators;

namespace Allocator.Tests.Hpa;

/// <summary>A hugepage shard over a private central, map and metadata, on <see cref="FakeHpaHooks"/>.</summary>
internal sealed unsafe class HpaShardFixture : IDisposable
{
    public static readonly nuint Page = Allocator.Os.Pages.PageSize;

    /// <summary>jemalloc's hpa test options: a quarter-slab maximum, hugify at 100% after 10 s, dirty at most 25%, no purge interval.</summary>
    public static readonly HpaShardOptions TestOptions = new()
    {
        SlabMaxAlloc = HugePage.Size / 4,
        HugificationThreshold = HugePage.Size,
        DirtyMult = 0.25,
        HugifyDelayMs = 10_000,
        MinPurgeIntervalMs = 0,
    };

    public readonly FakeHpaHooks Hooks = new();
    public readonly HpaCentral Central;
    public readonly Base Base = new(DefaultExtentHooks.Unmapping);
    public readonly EdataCache EdataCache;
    public readonly ExtentMap Map = new();
    public readonly HpaShard Shard;

    public HpaShardFixture(HpaShardOptions? options = null)
    {
        Central = new HpaCentral(Hooks);
        EdataCache = new EdataCache(Base);
        Shard = new HpaShard(Central, Hooks, Base, EdataCache, Map, OsPageClasses.Value, 7, options ?? TestOptions);
    }

    public void Dispose()
    {
        Shard.Destroy();
        Central.Dispose();
        Map.Dispose();
        Base.Dispose();
    }
}
