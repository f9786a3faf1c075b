using Allocator.Os;
using Allocator.Tests.Infrastructure;

namespace Allocator.Tests.Os;

/// <summary>
/// Pages against the kernel's own account (/proc/self/maps). Serial: the call counters are
/// process-wide, and a hole a test unmaps must not be refilled by another test's mapping.
/// </summary>
[Collection(ProcessWideCollection.Name)]
public unsafe class PagesTests
{
    private static readonly nuint Page = Pages.PageSize;

    private static byte* MapPages(int pages, bool commit = true)
    {
        var p = (byte*)Pages.Map(null, (nuint)pages * Page, Page, commit);
        Assert.True(p != null, "mmap failed");
        return p;
    }

    private static void Fill(byte* p, nuint size, byte value)
    {
        for (nuint i = 0; i < size; i++) p[i] = value;
    }

    private static bool All(byte* p, nuint size, byte value)
    {
        for (nuint i = 0; i < size; i++)
            if (p[i] != value) return false;
        return true;
    }

    [Fact]
    public void A_committed_mapping_is_page_aligned_zeroed_readable_and_writable()
    {
        const int N = 8;
        byte* p = MapPages(N);

        Assert.Equal(0u, (nuint)p % Page);
        Assert.Equal("rw-p", ProcMaps.PermissionsAt(p));
        Assert.Equal(N * Page, ProcMaps.MappedBytesIn(p, N * Page));
        Assert.True(All(p, N * Page, 0));
        for (int i = 0; i < N; i++)
        {
            p[(nuint)i * Page] = (byte)(i + 1);
            p[(nuint)(i + 1) * Page - 1] = (byte)(i + 101);
        }

        for (int i = 0; i < N; i++)
        {
            Assert.Equal((byte)(i + 1), p[(nuint)i * Page]);
            Assert.Equal((byte)(i + 101), p[(nuint)(i + 1) * Page - 1]);
        }

        Assert.True(Pages.Unmap(p, N * Page));
    }

    [Fact]
    public void An_uncommitted_mapping_is_inaccessible_until_committed_and_then_reads_zero()
    {
        byte* p = MapPages(2, commit: false);
        Assert.Equal("---p", ProcMaps.PermissionsAt(p));

        Assert.True(Pages.Commit(p, 2 * Page));
        Assert.Equal("rw-p", ProcMaps.PermissionsAt(p + Page));
        Assert.True(All(p, 2 * Page, 0));
        p[0] = 7;
        Assert.Equal(7, p[0]);
        Assert.True(Pages.Unmap(p, 2 * Page));
    }

    [Fact]
    public void PurgeForced_makes_exactly_the_purged_pages_read_back_zero()
    {
        byte* p = MapPages(4);
        Fill(p, 4 * Page, 0xAB);

        Assert.True(Pages.PurgeForced(p + Page, 2 * Page));

        Assert.True(All(p, Page, 0xAB));
        Assert.True(All(p + Page, 2 * Page, 0));
        Assert.True(All(p + 3 * Page, Page, 0xAB));
        Assert.Equal("rw-p", ProcMaps.PermissionsAt(p + Page)); // purged, still mapped and usable
        Assert.True(Pages.Unmap(p, 4 * Page));
    }

    [Fact]
    public void PurgeLazy_keeps_the_pages_mapped_and_writable()
    {
        byte* p = MapPages(2);
        Fill(p, 2 * Page, 0xCD);
        bool purged = Pages.PurgeLazy(p, 2 * Page);

        Assert.Equal(Pages.LazyPurgeSupported, purged);
        Assert.Equal("rw-p", ProcMaps.PermissionsAt(p));
        // Contents are indeterminate after MADV_FREE until written; a write must stick.
        p[Page] = 9;
        Assert.Equal(9, p[Page]);
        Assert.True(Pages.Unmap(p, 2 * Page));
    }

    [Fact]
    public void Protect_makes_a_prot_none_region_and_Unprotect_restores_rw_with_contents_intact()
    {
        byte* p = MapPages(3);
        p[Page] = 0x5A;

        Assert.True(Pages.Protect(p + Page, Page));
        MapsRegion guard = ProcMaps.FindRegion(p + Page)!.Value;
        Assert.Equal("---p", guard.Permissions);
        Assert.Equal(((nuint)(p + Page), (nuint)(p + 2 * Page)), (guard.Start, guard.End));
        Assert.Equal("rw-p", ProcMaps.PermissionsAt(p));
        Assert.Equal("rw-p", ProcMaps.PermissionsAt(p + 2 * Page));

        Assert.True(Pages.Unprotect(p + Page, Page));
        Assert.Equal("rw-p", ProcMaps.PermissionsAt(p + Page));
        Assert.Equal(0, ProcMaps.CountProtNone(p, 3 * Page));
        Assert.Equal(0x5A, p[Page]);
        Assert.True(Pages.Unmap(p, 3 * Page));
    }

    [Theory]
    [InlineData(64 * 1024)]
    [InlineData(2 * 1024 * 1024)]
    [InlineData(8 * 1024 * 1024)]
    public void Map_honours_a_large_alignment_and_maps_the_whole_size(int alignment)
    {
        nuint size = 2 * 1024 * 1024;
        var p = (byte*)Pages.Map(null, size, (nuint)alignment, commit: true);

        Assert.True(p != null);
        Assert.Equal(0u, (nuint)p % (nuint)alignment);
        Assert.Equal(size, ProcMaps.MappedBytesIn(p, size));
        p[0] = 1;
        p[size - 1] = 1;
        MapsRegion mapped = ProcMaps.FindRegion(p)!.Value;
        Assert.True(Pages.Unmap(p, size));
        // The runtime may reuse freed addresses at once: check that our mapping is gone.
        Assert.True(ProcMaps.IsGone(mapped));
    }

    [Fact]
    public void Unmap_removes_exactly_the_range_given()
    {
        byte* p = MapPages(3);

        MapsRegion whole = ProcMaps.FindRegion(p)!.Value;
        Assert.True(Pages.Unmap(p + Page, Page));

        // The three-page mapping is split: its middle page is no longer part of it.
        Assert.True(ProcMaps.IsGone(whole));
        Assert.Equal("rw-p", ProcMaps.PermissionsAt(p));
        Assert.Equal("rw-p", ProcMaps.PermissionsAt(p + 2 * Page));
        MapsRegion low = ProcMaps.FindRegion(p)!.Value, high = ProcMaps.FindRegion(p + 2 * Page)!.Value;
        Assert.True(low.End <= (nuint)(p + Page) && high.Start >= (nuint)(p + 2 * Page));
        Assert.True(Pages.Unmap(p, Page));
        Assert.True(Pages.Unmap(p + 2 * Page, Page));
        Assert.True(ProcMaps.IsGone(low) && ProcMaps.IsGone(high));
    }

    [Fact]
    public void Map_at_an_occupied_address_fails_without_replacing_what_is_there()
    {
        byte* p = MapPages(2);
        p[0] = 0x77;

        Assert.True(Pages.Map(p, 2 * Page, Page, commit: true) == null);

        Assert.Equal(0x77, p[0]);
        Assert.Equal(2 * Page, ProcMaps.MappedBytesIn(p, 2 * Page));
        Assert.True(Pages.Unmap(p, 2 * Page));
    }

    [Fact]
    public void Map_at_a_free_address_returns_exactly_that_address()
    {
        byte* p = MapPages(3);
        Assert.True(Pages.Unmap(p + Page, 2 * Page));

        byte* q = (byte*)Pages.Map(p + Page, 2 * Page, Page, commit: true);

        Assert.True(q == p + Page);
        Assert.True(Pages.Unmap(p, 3 * Page));
    }

    [Fact]
    public void Decommit_follows_the_overcommit_policy()
    {
        byte* p = MapPages(2);
        p[0] = 0x42;
        OsCounters before = Pages.Counters;

        bool decommitted = Pages.Decommit(p, 2 * Page);

        if (Pages.Overcommits)
        {
            // jemalloc's pages_decommit reports failure when the OS overcommits: nothing changes, no call is made.
            Assert.False(decommitted);
            Assert.Equal(0, Pages.Counters.Since(before).Decommits);
            Assert.Equal("rw-p", ProcMaps.PermissionsAt(p));
            Assert.Equal(0x42, p[0]);
        }
        else
        {
            Assert.True(decommitted);
            Assert.Equal(1, Pages.Counters.Since(before).Decommits);
            Assert.Equal("---p", ProcMaps.PermissionsAt(p));
            Assert.True(Pages.Commit(p, 2 * Page));
            Assert.Equal(0, p[0]);
        }

        Assert.True(Pages.Unmap(p, 2 * Page));
    }

    [Fact]
    public void The_counters_move_by_exactly_the_calls_made()
    {
        OsCounters before = Pages.Counters;

        byte* p = MapPages(4);
        Assert.True(Pages.Protect(p, Page));
        Assert.True(Pages.Unprotect(p, Page));
        Assert.True(Pages.PurgeForced(p, Page));
        bool lazy = Pages.LazyPurgeSupported;
        Assert.Equal(lazy, Pages.PurgeLazy(p + Page, Page));
        Assert.True(Pages.Commit(p + 2 * Page, Page));
        Pages.Decommit(p + 3 * Page, Page);
        Assert.True(Pages.Unmap(p, 4 * Page));

        var expected = new OsCounters(Maps: 1, Unmaps: 1, Protects: 2, LazyPurges: lazy ? 1 : 0, ForcedPurges: 1,
            Commits: 1, Decommits: Pages.Overcommits ? 0 : 1, Failures: 0);
        Assert.Equal(expected, Pages.Counters.Since(before));
    }

    [Fact]
    public void A_failed_call_is_counted_as_a_failure()
    {
        byte* p = MapPages(1);
        Assert.True(Pages.Unmap(p, Page));
        OsCounters before = Pages.Counters;

        Assert.False(Pages.Protect(p, Page)); // mprotect of an unmapped page: ENOMEM

        OsCounters delta = Pages.Counters.Since(before);
        Assert.Equal(1, delta.Protects);
        Assert.Equal(1, delta.Failures);
    }
}
