using System;
using Allocator.Extents;
using Allocator.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Allocator.Metadata;
using Allocator.PageAllocators;

namespace Allocator.Tests.Arenas;

/// <summary>
/// An arena constructor that fails after its index is rented and its shard built gives both back:
/// the next arena gets the same index, every mapping of the shard (its metadata included) is
/// returned through the hooks, and nothing stays registered. Runs alone: the index, the purger's
/// registrations and the table of live arenas are process-wide.
/// </summary>
[Collection(ProcessWideCollection.Name)]
public sealed unsafe class ArenaConstructionFailureTests
{
    [Fact]
    public void AFailedMetadataAllocationAtAnyStepGivesTheShardAndTheIndexBack()
    {
        // The probe: how many metadata allocations a construction makes on this thread.
        int thread = Environment.CurrentManagedThreadId;
        int calls = 0;
        Base.AllocateFaultForTests = () =>
        {
            if (Environment.CurrentManagedThreadId == thread) calls++;
            return false;
        };
        try
        {
            using (var placement = new AddressReservation())
                Arena.Create(Options(new TestExtentHooks(retain: true, placement: placement))).Dispose();
            int constructionCalls = calls;
            Assert.True(constructionCalls > 4, $"construction made {constructionCalls} metadata allocations");

            bool copyingTablesFailed = false;
            for (int n = 1; n <= constructionCalls; n++)
            {
                int seen = 0, target = n;
                Base.AllocateFaultForTests = () => Environment.CurrentManagedThreadId == thread && ++seen == target;
                using var placement = new AddressReservation();
                var hooks = new TestExtentHooks(retain: true, placement: placement);
                var ex = ExpectRefusedAndReturned(() => Arena.Create(Options(hooks)), hooks);
                Assert.IsType<OutOfMemoryException>(ex);
                copyingTablesFailed |= ex.StackTrace?.Contains("CopySizeTables", StringComparison.Ordinal) == true;
            }

            Assert.True(copyingTablesFailed, "no failed allocation fell in the copy of the size tables");
        }
        finally
        {
            Base.AllocateFaultForTests = null;
        }
    }

    [Fact]
    public void ABackgroundPurgerThatCannotStartGivesTheShardAndTheIndexBack()
    {
        int thread = Environment.CurrentManagedThreadId;
        int purged = BackgroundPurger.Count;
        BackgroundPurger.StartFaultForTests = () =>
        {
            if (Environment.CurrentManagedThreadId == thread) throw new OutOfMemoryException("no thread for the purger (injected)");
        };
        try
        {
            using var placement = new AddressReservation();
            var hooks = new TestExtentHooks(retain: true, placement: placement);
            var ex = ExpectRefusedAndReturned(() => Arena.Create(Options(hooks) with { BackgroundPurge = true }), hooks);
            Assert.Contains("injected", ex.Message);
            Assert.Equal(purged, BackgroundPurger.Count);
        }
        finally
        {
            BackgroundPurger.StartFaultForTests = null;
        }

        // Nothing was left half-registered: the next arena registers and deregisters normally.
        using (var arena = Arena.Create(new ArenaOptions { BackgroundPurge = true }))
            Assert.Equal(purged + 1, BackgroundPurger.Count);
        Assert.Equal(purged, BackgroundPurger.Count);
    }

    private static ArenaOptions Options(TestExtentHooks hooks) => new()
    {
        Hooks = hooks,
        Retain = true,
        TimeProvider = new FakeTimeProvider(),
    };

    // Runs a construction that must throw and checks that it left nothing behind.
    private static Exception ExpectRefusedAndReturned(Action create, TestExtentHooks hooks)
    {
        // The lowest free index is rented first, so a leaked one shows as a different next index.
        uint before = ArenaIndices.Rent();
        ArenaIndices.Return(before);
        int live = Arena.LiveArenas().Count;
        Exception ex = Assert.ThrowsAny<Exception>(create);
        uint after = ArenaIndices.Rent();
        ArenaIndices.Return(after);
        Assert.Equal(before, after);
        Assert.Equal(live, Arena.LiveArenas().Count);
        Assert.Empty(hooks.Anomalies);
        Assert.True(hooks.MappedBytes == 0, $"{hooks.MappedBytes} bytes the shard mapped are still mapped");
        return ex;
    }
}
