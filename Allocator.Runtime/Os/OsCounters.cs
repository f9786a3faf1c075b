namespace Allocator.Os;

/// <summary>
/// How many times each page call was made, process-wide. Tests read it to prove that a path
/// costs no system call (for example, reusing a cached guarded extent costs no mprotect).
/// </summary>
public readonly record struct OsCounters(
    long Maps, long Unmaps, long Protects, long LazyPurges, long ForcedPurges, long Commits, long Decommits, long Failures)
{
    /// <summary>The counts accumulated between <paramref name="before"/> and this snapshot.</summary>
    public OsCounters Since(OsCounters before) => new(
        Maps - before.Maps, Unmaps - before.Unmaps, Protects - before.Protects, LazyPurges - before.LazyPurges,
        ForcedPurges - before.ForcedPurges, Commits - before.Commits, Decommits - before.Decommits,
        Failures - before.Failures);
}
