namespace Allocator.Hpa;

/// <summary>How the small extent cache in front of a hugepage shard is sized (jemalloc's sec_opts_t). Defaults are jemalloc 5.3's.</summary>
internal sealed record SecOptions
{
    /// <summary>Shards (threads pick one at random, once); 0 turns the cache off. Default 4.</summary>
    public int NShards { get; init; } = 4;

    /// <summary>The largest extent cached. Default 32 KiB.</summary>
    public nuint MaxAlloc { get; init; } = 32 << 10;

    /// <summary>A shard holding more bytes than this flushes. Default 256 KiB.</summary>
    public nuint MaxBytes { get; init; } = 256 << 10;

    /// <summary>A flush empties whole bins until the shard holds at most this. Default 128 KiB.</summary>
    public nuint BytesAfterFlush { get; init; } = 128 << 10;

    /// <summary>Extra extents a miss asks the shard for in one batch, cached for the next requests. Default 0.</summary>
    public int BatchFillExtra { get; init; }
}
