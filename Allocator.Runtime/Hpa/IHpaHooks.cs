namespace Allocator.Hpa;

/// <summary>
/// What the hugepage allocator asks of the OS and the clock (jemalloc's hpa_hooks_t), so that tests
/// count the calls and move a fake clock.
/// </summary>
internal unsafe interface IHpaHooks
{
    /// <summary>Maps <paramref name="size"/> read-write bytes aligned to a huge page, or null.</summary>
    void* Map(nuint size);

    /// <summary>Unmaps a range <see cref="Map"/> gave (or part of one).</summary>
    void Unmap(void* address, nuint size);

    /// <summary>Discards the pages now; they read back as zero.</summary>
    void Purge(void* address, nuint size);

    /// <summary>
    /// Asks for huge pages over the range (and, with <paramref name="collapse"/>, for the collapse now);
    /// false when the system has no huge pages to give.
    /// </summary>
    bool Hugify(void* address, nuint size, bool collapse);

    /// <summary>Asks for no huge pages over the range.</summary>
    void Dehugify(void* address, nuint size);

    /// <summary>A monotonic clock in nanoseconds.</summary>
    long NowNs();
}
