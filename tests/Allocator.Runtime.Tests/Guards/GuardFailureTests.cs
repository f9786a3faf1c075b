using Allocator.Extents;
using Allocator.Os;
using Allocator.Tests.Extents;
using Allocator.Tests.Infrastructure;

namespace Allocator.Tests.Guards;

/// <summary>
/// mprotect refusing a guard (ENOMEM at vm.max_map_count, say): the piece that could not be guarded
/// must stay an ordinary extent that never swallows the guarded slab cut after it.
/// </summary>
[Collection(ProcessWideCollection.Name)]
public sealed unsafe class GuardFailureTests
{
    private static readonly nuint Page = Shard.Page;

    [Fact]
    public void APieceTheBumpRegionCouldNotGuardNeverCoalescesWithTheGuardedSlabAfterIt()
    {
        byte* guardPage;
        using (var shard = new Shard())
        {
            ClassicPageAllocator<RuntimeExtentPolicy> pac = shard.Pac;
            int protects = 0;
            Pages.FaultInjector = call => call == OsCall.Protect && ++protects == 1;
            Edata* a;
            try
            {
                a = pac.Alloc(2 * Page, Page, zero: false, guarded: true, frequentReuse: true);
            }
            finally
            {
                Pages.FaultInjector = null;
            }

            // The fault fired, and the caller still got its memory, unguarded.
            Assert.Equal(1, protects);
            Assert.True(a != null);
            Assert.False(a->IsGuarded);
            shard.Active.Add((nint)a);

            Edata* b = pac.Alloc(2 * Page, Page, zero: false, guarded: true, frequentReuse: true);
            Assert.True(b != null && b->IsGuarded);
            Assert.False(b->IsHead);
            shard.Active.Add((nint)b);
            // A slab, as the arena would make it: freed, it stays guarded.
            shard.Map.Remap(b, 0, slab: true);
            guardPage = (byte*)b->Past;
            MapsProbe.AssertGuardExactly(guardPage, Page);
            // The unguarded piece (a, then what is left of the failed cut) lies right below the guarded slab.
            Assert.Equal((nuint)a->Past + Page, (nuint)b->Base);
            Assert.True(shard.Map.TryLookup(a->Past, out RtreeContents rest) && rest.State == ExtentState.Retained);
            Validate(shard);

            // The freed slab stays guarded, in dirty and then in retained.
            shard.Free(b);
            pac.PurgeAll();
            Validate(shard);
            Assert.Equal(1, shard.Context.Retained.GuardedEset.Count);
            Assert.True(shard.Map.TryLookup(b->Base, out RtreeContents slab) && slab.State == ExtentState.Retained);

            // Retaining a coalesces it forward: with the piece above it, then up to the guarded slab.
            shard.Free(a);
            pac.PurgeAll();
            Validate(shard);
            Assert.Equal(1, shard.Context.Retained.GuardedEset.Count);
            Assert.True(b->IsGuarded && b->State == ExtentState.Retained);
            Assert.True(shard.Map.TryLookup(b->Base, out RtreeContents after) && after.Edata == b);
            MapsProbe.AssertGuardExactly(guardPage, Page);
        }

        // Destroying the shard took the guard page with the slab.
        Assert.Equal(0, ProcMaps.CountProtNone(guardPage, Page));
    }

    // Without the map scan: the bump region's uncut rest is active, held by the page allocator, not the test.
    private static void Validate(Shard shard) =>
        ExtentValidator.Validate(shard.Context, shard.Active.ToArray(), activeIsComplete: true, scanMap: false);
}
