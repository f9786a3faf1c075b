namespace Allocator.Hpa;

/// <summary>A hugepage shard's figures at one moment (pages unless named otherwise).</summary>
internal readonly record struct HpaShardStats
{
    /// <summary>Pageslabs the shard owns.</summary>
    public long Pageslabs { get; init; }

    /// <summary>Pageslabs believed huge.</summary>
    public long HugePageslabs { get; init; }

    /// <summary>Pages handed out.</summary>
    public long ActivePages { get; init; }

    /// <summary>Pages freed but resident.</summary>
    public long DirtyPages { get; init; }

    /// <summary>Pages resident: active or dirty.</summary>
    public long TouchedPages => ActivePages + DirtyPages;

    /// <summary>Purge passes (one slab each).</summary>
    public long PurgePasses { get; init; }

    /// <summary>Ranges purged (one madvise each).</summary>
    public long Purges { get; init; }

    /// <summary>Slabs hugified.</summary>
    public long Hugifies { get; init; }

    /// <summary>Hugify attempts the system refused (no huge pages).</summary>
    public long HugifyFailures { get; init; }

    /// <summary>Slabs dehugified before a purge.</summary>
    public long Dehugifies { get; init; }
}
