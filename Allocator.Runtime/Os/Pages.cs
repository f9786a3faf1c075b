using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;

namespace Allocator.Os;

/// <summary>
/// Pages from the OS: map, unmap, commit, decommit, purge, protect.
/// Every call is counted in <see cref="Counters"/>. Failures return false or null, never throw:
/// the extent layer decides what a failure means.
/// </summary>
public static unsafe class Pages
{
    private static long s_mappedBytes;
    private static long s_maps, s_unmaps, s_protects, s_lazyPurges, s_forcedPurges, s_commits, s_decommits, s_failures;

    /// <summary>The OS page size in bytes.</summary>
    public static readonly nuint PageSize = (nuint)Environment.SystemPageSize;

    /// <summary>
    /// True when the OS overcommits (Linux modes 0 and 1): decommitting would only split mappings
    /// (and approach vm.max_map_count) without saving memory that a forced purge does not already save.
    /// </summary>
    public static readonly bool Overcommits = ReadOvercommit();

    /// <summary>True when lazy purging (MADV_FREE) is known to work; cleared the first time the kernel refuses it.</summary>
    public static bool LazyPurgeSupported { get; private set; } = OperatingSystem.IsLinux() || OperatingSystem.IsMacOS();

    /// <summary>
    /// Test seam: when set, asked before each map, commit, decommit, purge, protect and unprotect
    /// call; true makes that call fail as the OS would (the call is not made). Unmap is never
    /// failed: the allocator relies on it to give memory back.
    /// </summary>
    internal static Func<OsCall, bool>? FaultInjector;

    /// <summary>
    /// Test seam: when set, pages behave as on a host that does not overcommit (mappings are made
    /// uncommitted when the caller allows it, decommit really decommits), so that tests on an
    /// overcommitting host reach the commit and decommit paths with the default hooks.
    /// </summary>
    internal static bool StrictCommitForTests;

    /// <summary>
    /// Test seam: when set, places the mappings it accepts instead of the kernel, so that which
    /// mappings are adjacent (and so how many maps, unmaps and purges a workload needs) no longer
    /// depends on the rest of the process. Commit and decommit still remap in place.
    /// </summary>
    internal static IPagePlacement? PlacementForTests;

    /// <summary>Whether committing and decommitting are skipped because the OS overcommits (see <see cref="Overcommits"/>).</summary>
    internal static bool CommitsLazily => Overcommits && !StrictCommitForTests;

    /// <summary>Bytes mapped through this class and not yet unmapped, process-wide.</summary>
    public static long MappedBytes => Volatile.Read(ref s_mappedBytes);

    /// <summary>A snapshot of the call counters.</summary>
    public static OsCounters Counters => new(
        Volatile.Read(ref s_maps), Volatile.Read(ref s_unmaps), Volatile.Read(ref s_protects),
        Volatile.Read(ref s_lazyPurges), Volatile.Read(ref s_forcedPurges), Volatile.Read(ref s_commits),
        Volatile.Read(ref s_decommits), Volatile.Read(ref s_failures));

    /// <summary>
    /// Maps <paramref name="size"/> bytes aligned to <paramref name="alignment"/>, read-write when
    /// <paramref name="commit"/> is set, inaccessible otherwise. With <paramref name="fixedAddress"/>
    /// the mapping must start exactly there (it is never forced over an existing one).
    /// </summary>
    /// <returns>The mapping, or null.</returns>
    public static void* Map(void* fixedAddress, nuint size, nuint alignment, bool commit)
    {
        EnsureUnix();
        int protection = commit ? LibC.ProtReadWrite : LibC.ProtNone;
        if (fixedAddress != null)
        {
            // A hint, not MAP_FIXED: MAP_FIXED would silently replace whatever lives there.
            void* at = MapRaw(fixedAddress, size, protection);
            if (at == null) return null;
            if (at == fixedAddress) return at;
            UnmapRaw(at, size);
            return null;
        }

        void* p = MapRaw(null, size, protection);
        if (p == null || alignment <= PageSize || ((nuint)p & (alignment - 1)) == 0) return p;

        // Misaligned: map with slack and trim both ends: no call maps at a chosen alignment.
        UnmapRaw(p, size);
        nuint padded = size + alignment - PageSize;
        if (padded < size) return null;
        byte* raw = (byte*)MapRaw(null, padded, protection);
        if (raw == null) return null;
        byte* aligned = (byte*)(((nuint)raw + alignment - 1) & ~(alignment - 1));
        nuint lead = (nuint)(aligned - raw);
        nuint trail = padded - lead - size;
        if (lead != 0) UnmapRaw(raw, lead);
        if (trail != 0) UnmapRaw(aligned + size, trail);
        return aligned;
    }

    /// <summary>Unmaps a range obtained from <see cref="Map"/> (any page-aligned part of it).</summary>
    public static bool Unmap(void* address, nuint size)
    {
        EnsureUnix();
        return UnmapRaw(address, size);
    }

    /// <summary>Makes the range readable and writable again.</summary>
    public static bool Commit(void* address, nuint size)
    {
        EnsureUnix();
        if (Injected(OsCall.Commit)) return false;
        Interlocked.Increment(ref s_commits);
        // Replacing the mapping gives zeroed pages whatever the range held, which commit promises.
        void* p = LibC.Mmap(address, size, LibC.ProtReadWrite, LibC.MapPrivate | LibC.MapAnonymous | LibC.MapFixed, -1, 0);
        return Check(p != LibC.MapFailed);
    }

    /// <summary>Releases the range's physical pages and makes it inaccessible; false when the OS overcommits.</summary>
    public static bool Decommit(void* address, nuint size)
    {
        EnsureUnix();
        if (CommitsLazily || Injected(OsCall.Decommit)) return false;
        Interlocked.Increment(ref s_decommits);
        void* p = LibC.Mmap(address, size, LibC.ProtNone, LibC.MapPrivate | LibC.MapAnonymous | LibC.MapFixed | LibC.MapNoReserve, -1, 0);
        return Check(p != LibC.MapFailed);
    }

    /// <summary>Lets the OS take the pages back when it needs them (MADV_FREE); contents become indeterminate.</summary>
    public static bool PurgeLazy(void* address, nuint size)
    {
        EnsureUnix();
        if (!LazyPurgeSupported || Injected(OsCall.PurgeLazy)) return false;
        Interlocked.Increment(ref s_lazyPurges);
        if (LibC.Madvise(address, size, LibC.MadvFree) == 0) return true;
        // EINVAL: a kernel without MADV_FREE. Stop asking; callers fall back to a forced purge.
        if (Marshal.GetLastPInvokeError() == 22) LazyPurgeSupported = false;
        Interlocked.Increment(ref s_failures);
        return false;
    }

    /// <summary>Discards the pages now (MADV_DONTNEED); anonymous private pages then read back as zero.</summary>
    public static bool PurgeForced(void* address, nuint size)
    {
        EnsureUnix();
        if (Injected(OsCall.PurgeForced)) return false;
        Interlocked.Increment(ref s_forcedPurges);
        return Check(LibC.Madvise(address, size, LibC.MadvDontNeed) == 0);
    }

    /// <summary>The transparent huge page: 2 MiB, the PMD size of x86-64 and arm64 with 4 KiB pages.</summary>
    internal const nuint HugePageSize = 2 << 20;

    /// <summary>Whether MADV_COLLAPSE is known to work; cleared the first time the kernel refuses it as unknown.</summary>
    internal static bool CollapseSupported { get; private set; } = OperatingSystem.IsLinux();

    /// <summary>Marks the range eligible for transparent huge pages (MADV_HUGEPAGE, Linux only).</summary>
    internal static bool AdviseHuge(void* address, nuint size) => Advise(address, size, LibC.MadvHugePage);

    /// <summary>Excludes the range from transparent huge pages (MADV_NOHUGEPAGE, Linux only).</summary>
    internal static bool AdviseNoHuge(void* address, nuint size) => Advise(address, size, LibC.MadvNoHugePage);

    /// <summary>Collapses the range into huge pages now (MADV_COLLAPSE, Linux 6.1 and later); false when the kernel could not.</summary>
    internal static bool Collapse(void* address, nuint size)
    {
        if (!CollapseSupported) return false;
        if (Advise(address, size, LibC.MadvCollapse)) return true;
        // EINVAL: a kernel without MADV_COLLAPSE. Stop asking; khugepaged collapses MADV_HUGEPAGE ranges instead.
        if (Marshal.GetLastPInvokeError() == 22) CollapseSupported = false;
        return false;
    }

    private static bool Advise(void* address, nuint size, int advice)
    {
        EnsureUnix();
        if (!OperatingSystem.IsLinux()) return false;
        return Check(LibC.Madvise(address, size, advice) == 0);
    }

    /// <summary>Makes the range inaccessible (a guard page): any access faults.</summary>
    public static bool Protect(void* address, nuint size) => !Injected(OsCall.Protect) && ChangeProtection(address, size, LibC.ProtNone);

    /// <summary>Makes a guarded range readable and writable again.</summary>
    public static bool Unprotect(void* address, nuint size) => !Injected(OsCall.Unprotect) && ChangeProtection(address, size, LibC.ProtReadWrite);

    private static bool ChangeProtection(void* address, nuint size, int protection)
    {
        EnsureUnix();
        Interlocked.Increment(ref s_protects);
        return Check(LibC.Mprotect(address, size, protection) == 0);
    }

    private static bool Injected(OsCall call)
    {
        if (FaultInjector?.Invoke(call) != true) return false;
        Interlocked.Increment(ref s_failures);
        return true;
    }

    private static void* MapRaw(void* hint, nuint size, int protection)
    {
        if (Injected(OsCall.Map)) return null;
        Interlocked.Increment(ref s_maps);
        void* p;
        if (PlacementForTests?.TryMap(hint, size, protection != LibC.ProtNone, out p) == true)
        {
            if (p == null) p = LibC.MapFailed;
        }
        else
        {
            int flags = LibC.MapPrivate | LibC.MapAnonymous | (protection == LibC.ProtNone ? LibC.MapNoReserve : 0);
            p = LibC.Mmap(hint, size, protection, flags, -1, 0);
        }

        if (p != LibC.MapFailed)
        {
            Interlocked.Add(ref s_mappedBytes, (long)size);
            return p;
        }

        Interlocked.Increment(ref s_failures);
        return null;
    }

    private static bool UnmapRaw(void* address, nuint size)
    {
        Interlocked.Increment(ref s_unmaps);
        bool unmapped;
        if (PlacementForTests?.TryUnmap(address, size, out unmapped) != true) unmapped = LibC.Munmap(address, size) == 0;
        if (!Check(unmapped)) return false;
        Interlocked.Add(ref s_mappedBytes, -(long)size);
        return true;
    }

    private static bool Check(bool ok)
    {
        if (!ok) Interlocked.Increment(ref s_failures);
        return ok;
    }

    private static void EnsureUnix()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
            throw new PlatformNotSupportedException("Allocator maps pages with mmap; this OS is not supported yet (Linux and macOS are).");
    }

    private static bool ReadOvercommit()
    {
        if (OperatingSystem.IsMacOS()) return true;
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            string text = File.ReadAllText("/proc/sys/vm/overcommit_memory").Trim();
            return text is "0" or "1";
        }
        catch (IOException)
        {
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
    }
}

/// <summary>The page calls a test can make fail (see <see cref="Pages.FaultInjector"/>).</summary>
internal enum OsCall
{
    Map,
    Commit,
    Decommit,
    PurgeLazy,
    PurgeForced,
    Protect,
    Unprotect,
}
