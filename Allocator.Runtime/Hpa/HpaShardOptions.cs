namespace Allocator.Hpa;

/// <summary>How a hugepage shard decides (jemalloc's hpa_shard_opts_t). Defaults are jemalloc's.</summary>
internal sealed record HpaShardOptions
{
    /// <summary>Requests above this many bytes go to the classic page allocator. Default 64 KiB.</summary>
    public nuint SlabMaxAlloc { get; init; } = 64 << 10;

    /// <summary>A slab with at least this many active bytes becomes a hugify candidate. Default 95% of a huge page.</summary>
    public nuint HugificationThreshold { get; init; } = HugePage.Size * 95 / 100;

    /// <summary>How long a slab stays a candidate before it is hugified. Default 10 s.</summary>
    public long HugifyDelayMs { get; init; } = 10_000;

    /// <summary>The least time between purge passes (also inline). Default 5 s.</summary>
    public long MinPurgeIntervalMs { get; init; } = 5_000;

    /// <summary>Dirty pages allowed per active page before purging; negative for no limit. Default 0.25.</summary>
    public double DirtyMult { get; init; } = 0.25;

    /// <summary>Every pageslab is marked for huge pages when it is mapped and counted huge from its first use; only empty slabs are purged.</summary>
    public bool Eager { get; init; }

    /// <summary>Hugify with MADV_COLLAPSE (where the kernel has it) after MADV_HUGEPAGE. Default true.</summary>
    public bool Collapse { get; init; } = true;

    /// <summary>A background thread does the deferred work; frees and allocations then only report it. Default false.</summary>
    public bool DeferralAllowed { get; init; }
}
