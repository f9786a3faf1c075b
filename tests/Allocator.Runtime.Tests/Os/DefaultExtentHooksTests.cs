using Allocator.Hooks;
using Allocator.Os;
using Allocator.Tests.Infrastructure;

namespace Allocator.Tests.Os;

/// <summary>
/// The default hooks (reference section 8): alloc maps and reports zero/commit, dalloc opts out
/// when retaining and unmaps otherwise, destroy always unmaps, offsets address within the extent.
/// </summary>
[Collection(ProcessWideCollection.Name)]
public unsafe class DefaultExtentHooksTests
{
    private static readonly nuint Page = Pages.PageSize;

    private static byte* Alloc(DefaultExtentHooks h, nuint size, nuint alignment = 0)
    {
        bool zero = false, commit = true;
        var p = (byte*)h.Alloc(null, size, alignment == 0 ? Page : alignment, ref zero, ref commit, 0);
        Assert.True(p != null);
        return p;
    }

    [Fact]
    public void Retaining_dalloc_refuses_and_leaves_the_mapping_intact_until_destroy()
    {
        DefaultExtentHooks h = DefaultExtentHooks.Retaining;
        Assert.True(h.Retain);
        byte* p = Alloc(h, 2 * Page);
        p[Page] = 0x31;

        Assert.False(h.Dalloc(p, 2 * Page, true, 0));
        Assert.Equal("rw-p", ProcMaps.PermissionsAt(p + Page));
        Assert.Equal(0x31, p[Page]);

        MapsRegion mapped = ProcMaps.FindRegion(p)!.Value;
        h.Destroy(p, 2 * Page, true, 0);
        Assert.True(ProcMaps.IsGone(mapped));
    }

    [Fact]
    public void Unmapping_dalloc_unmaps()
    {
        DefaultExtentHooks h = DefaultExtentHooks.Unmapping;
        Assert.False(h.Retain);
        byte* p = Alloc(h, 2 * Page);
        MapsRegion mapped = ProcMaps.FindRegion(p)!.Value;

        Assert.True(h.Dalloc(p, 2 * Page, true, 0));
        Assert.True(ProcMaps.IsGone(mapped));
    }

    [Fact]
    public void For_picks_the_instance_by_retain()
    {
        Assert.Same(DefaultExtentHooks.Retaining, DefaultExtentHooks.For(true));
        Assert.Same(DefaultExtentHooks.Unmapping, DefaultExtentHooks.For(false));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Alloc_reports_zeroed_memory_and_its_real_commit_state(bool commitRequested)
    {
        DefaultExtentHooks h = DefaultExtentHooks.Unmapping;
        bool zero = false, commit = commitRequested;

        var p = (byte*)h.Alloc(null, 2 * Page, Page, ref zero, ref commit, 0);

        Assert.True(p != null);
        Assert.True(zero); // fresh anonymous pages
        // A required commit is honoured; otherwise an overcommitting OS maps committed anyway (pages.c does the same).
        Assert.Equal(commitRequested || Pages.Overcommits, commit);
        Assert.Equal(commit ? "rw-p" : "---p", ProcMaps.PermissionsAt(p));
        if (commit)
        {
            for (nuint i = 0; i < 2 * Page; i += 512) Assert.Equal(0, p[i]);
        }

        Assert.True(h.Dalloc(p, 2 * Page, commit, 0));
    }

    [Fact]
    public void Alloc_honours_a_2MiB_alignment()
    {
        const int TwoMiB = 2 * 1024 * 1024;
        byte* p = Alloc(DefaultExtentHooks.Unmapping, TwoMiB, TwoMiB);

        Assert.Equal(0u, (nuint)p % TwoMiB);
        Assert.Equal((nuint)TwoMiB, ProcMaps.MappedBytesIn(p, TwoMiB));
        Assert.True(DefaultExtentHooks.Unmapping.Dalloc(p, TwoMiB, true, 0));
    }

    [Fact]
    public void Alloc_at_an_occupied_new_address_returns_null_and_leaves_the_flags_alone()
    {
        DefaultExtentHooks h = DefaultExtentHooks.Unmapping;
        byte* p = Alloc(h, Page);
        bool zero = false, commit = true;

        Assert.True(h.Alloc(p, Page, Page, ref zero, ref commit, 0) == null);
        Assert.False(zero);
        Assert.True(h.Dalloc(p, Page, true, 0));
    }

    [Fact]
    public void PurgeForced_and_Commit_act_on_offset_and_length_only()
    {
        DefaultExtentHooks h = DefaultExtentHooks.Unmapping;
        byte* p = Alloc(h, 4 * Page);
        for (nuint i = 0; i < 4; i++) p[i * Page] = 0xEE;

        Assert.True(h.PurgeForced(p, 4 * Page, Page, Page, 0));
        Assert.True(h.Commit(p, 4 * Page, 2 * Page, Page, 0)); // commit promises zeroed pages

        Assert.Equal(new byte[] { 0xEE, 0, 0, 0xEE }, new[] { p[0], p[Page], p[2 * Page], p[3 * Page] });
        Assert.True(h.Dalloc(p, 4 * Page, true, 0));
    }

    [Fact]
    public void Decommit_with_an_offset_follows_the_overcommit_policy()
    {
        DefaultExtentHooks h = DefaultExtentHooks.Unmapping;
        byte* p = Alloc(h, 3 * Page);
        p[Page] = 0x13;

        bool decommitted = h.Decommit(p, 3 * Page, Page, Page, 0);

        Assert.Equal(!Pages.Overcommits, decommitted);
        Assert.Equal(decommitted ? "---p" : "rw-p", ProcMaps.PermissionsAt(p + Page));
        Assert.Equal("rw-p", ProcMaps.PermissionsAt(p));
        Assert.Equal("rw-p", ProcMaps.PermissionsAt(p + 2 * Page));
        if (!decommitted) Assert.Equal(0x13, p[Page]);
        Assert.True(h.Dalloc(p, 3 * Page, true, 0));
    }

    [Fact]
    public void Split_and_merge_agree_because_Linux_mappings_coalesce()
    {
        // Reference 4.15: the defaults refuse only when !maps_coalesce && !retain; Linux maps coalesce.
        foreach (DefaultExtentHooks h in new[] { DefaultExtentHooks.Retaining, DefaultExtentHooks.Unmapping })
        {
            Assert.True(h.Split((void*)Page, 2 * Page, Page, Page, true, 0));
            Assert.True(h.Merge((void*)Page, Page, (void*)(2 * Page), Page, true, 0));
        }
    }
}
