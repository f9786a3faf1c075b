using System;
using System.Linq;
using System.Reflection;
using System.Threading;
using Allocator.Extents;
using Allocator.Map;
using Allocator.Metadata;

namespace Allocator.Tests.Extents;

/// <summary>DESIGN.md invariants 1, 2, 4 and 6, each on a private shard.</summary>
public sealed unsafe class ExtentInvariantTests
{
    private static readonly nuint Page = Shard.Page;

    [Fact]
    public void Invariant1_ExtentsAreAcquiredOnlyThroughAKnownExtent()
    {
        using var shard = new Shard();
        Edata* a = shard.Alloc(4);
        Edata* b = shard.Alloc(4);
        Assert.Equal((nuint)a->Past, (nuint)b->Base);
        shard.Free(b);
        Assert.Equal(ExtentState.Dirty, b->State);

        // A lookup by address is read-only: it reports the free neighbor and leaves it alone.
        Assert.True(shard.Map.TryLookup(b->Base, out RtreeContents seen));
        Assert.True(seen.Edata == b);
        Assert.Equal(ExtentState.Dirty, b->State);
        Assert.Equal(ExtentState.Dirty, Leaf(shard, b).State);

        // Only starting from an extent we hold can the neighbor be claimed.
        using (shard.Context.Dirty.Enter())
        {
            Edata* n = shard.Map.TryAcquireNeighbor(a, ExtentState.Dirty, forward: true, expanding: false);
            Assert.True(n == b);
            Assert.Equal(ExtentState.Merging, b->State);
            Assert.Equal(ExtentState.Merging, Leaf(shard, b).State);
            shard.Map.Release(b, ExtentState.Dirty);
        }

        shard.Validate();

        // And the public surface offers no other way: nothing that takes an address returns an extent
        // except the read-only lookup, which is marked so that the analyzers refuse its result.
        var offenders = typeof(ExtentMap).Assembly.GetTypes()
            .Where(t => t.IsPublic && t.Namespace == "Allocator.Extents")
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Where(m => (ReturnsExtent(m) || YieldsContents(m)) && TakesRawAddress(m) && m.GetCustomAttribute<AddressLookupAttribute>() is null)
            .Select(m => $"{m.DeclaringType!.Name}.{m.Name}")
            .ToList();
        Assert.Empty(offenders);
    }

    [Fact]
    public void Invariant2_NeighborLeafIsCheckedBeforeItIsClaimed()
    {
        using var shard = new Shard();
        Edata* a = shard.Alloc(2);
        Edata* b = shard.Alloc(2);
        Edata* c = shard.Alloc(2);
        shard.Free(b);

        using (shard.Context.Muzzy.Enter())
        {
            // Wrong expected state: refused, and the neighbor is untouched.
            Assert.True(shard.Map.TryAcquireNeighbor(a, ExtentState.Muzzy, forward: true, expanding: false) == null);
            Assert.Equal(ExtentState.Dirty, b->State);
        }

        using (shard.Context.Dirty.Enter())
        {
            // An active neighbor (c after b is active; a before b is active) is never claimed.
            Assert.True(shard.Map.TryAcquireNeighbor(b, ExtentState.Dirty, forward: true, expanding: false) == null);
            Assert.True(shard.Map.TryAcquireNeighbor(b, ExtentState.Dirty, forward: false, expanding: false) == null);
            Assert.Equal(ExtentState.Active, c->State);

            // A head neighbor above us is refused from its leaf bits alone.
            b->IsHead = true;
            shard.Map.UpdateState(b, ExtentState.Dirty);
            Assert.True(Leaf(shard, b).IsHead == false, "the head bit reaches the leaf only on registration");
            Rewrite(shard, b);
            Assert.True(shard.Map.TryAcquireNeighbor(a, ExtentState.Dirty, forward: true, expanding: false) == null);
            b->IsHead = false;
            Rewrite(shard, b);

            // Another arena's extent in the same state is refused after the state check.
            uint own = b->ArenaIndex;
            b->ArenaIndex = own + 1;
            Assert.True(shard.Map.TryAcquireNeighbor(a, ExtentState.Dirty, forward: true, expanding: false) == null);
            b->ArenaIndex = own;

            // A different commit state is refused unless expanding.
            b->IsCommitted = false;
            Assert.True(shard.Map.TryAcquireNeighbor(a, ExtentState.Dirty, forward: true, expanding: false) == null);
            Edata* claimed = shard.Map.TryAcquireNeighbor(a, ExtentState.Dirty, forward: true, expanding: true);
            Assert.True(claimed == b);
            shard.Map.Release(b, ExtentState.Dirty);
            b->IsCommitted = true;
        }

        // No lock is keyed by address: the assembly holds no static pool of locks.
        var pools = typeof(ExtentMap).Assembly.GetTypes()
            .SelectMany(t => t.GetFields(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public))
            .Where(f => f.FieldType.IsArray && (f.FieldType.GetElementType() == typeof(Lock) || f.FieldType.GetElementType() == typeof(object)))
            .Select(f => $"{f.DeclaringType!.Name}.{f.Name}")
            .ToList();
        Assert.Empty(pools);
        shard.Validate();
    }

    [Fact]
    public void Invariant4_RecycleTakesTheEcacheLockOnce()
    {
        using var shard = new Shard();
        Edata* big = shard.Alloc(64);
        shard.Free(big);
        Assert.Equal(64u, (uint)shard.Context.Dirty.Npages);

        // Splitting a lead (alignment) and a trail off the cached extent: one lock hold for all of it.
        long before = shard.Context.Dirty.LockAcquisitions;
        Edata* e = shard.Alloc(3, alignment: 16 * Page);
        Assert.True(e != null);
        Assert.Equal(before + 1, shard.Context.Dirty.LockAcquisitions);
        Assert.Equal(0u, (uint)((nuint)e->Base % (16 * Page)));
        Assert.Equal(3 * Page, e->Size);
        Assert.Equal(61u, (uint)shard.Context.Dirty.Npages);
        shard.Validate();
    }

    [Fact]
    public void Invariant6_RetainedSpaceGrowsGeometricallyUpToTheLimit()
    {
        using var shard = new Shard(retain: true);
        var classes = shard.Context.PageClasses;
        ExpGrow grow = shard.Context.Grow;
        Assert.Equal(2UL << 20, grow.NextSize);
        Assert.Equal(classes.LargeMaxClass, grow.Limit);

        // Each request larger than what is retained maps exactly the next page-size class.
        var expected = new ulong[] { 2 << 20, (5UL << 20) / 2, 3 << 20, (7UL << 20) / 2, 4 << 20, 5 << 20, 6 << 20 };
        foreach (ulong size in expected)
        {
            Assert.Equal(size, grow.NextSize);
            Edata* e = shard.Alloc((nuint)(size / Page));
            Assert.True(e != null);
            Assert.True(e->IsHead);
        }

        // Skipping: a request above the next class maps the first class that holds it, then continues after it.
        int next = grow.NextIndex;
        Edata* huge = shard.Alloc((nuint)(classes.IndexToPsz(next + 3) / Page));
        Assert.True(huge != null);
        Assert.Equal(next + 4, grow.NextIndex);

        // The limit reads back rounded down to a class, and caps the next size from the next grow on.
        Assert.Throws<ArgumentOutOfRangeException>(() => grow.Limit = (ulong)Page - 1);
        grow.Limit = (ulong)Page + 1;
        Assert.Equal((ulong)Page, grow.Limit);
        grow.Limit = classes.IndexToPsz(10) - 1;
        Assert.Equal(classes.IndexToPsz(9), grow.Limit);
        Assert.Equal(next + 4, grow.NextIndex);
        Assert.True(shard.Alloc((nuint)(classes.IndexToPsz(next + 4) / Page)) != null);
        Assert.Equal(9, grow.NextIndex);
        Assert.Equal(classes.IndexToPsz(9), grow.NextSize);
        shard.Validate();
    }

    internal static RtreeContents Leaf(Shard shard, Edata* e)
    {
        Assert.True(shard.Map.TryLookup(e->Base, out RtreeContents c));
        return c;
    }

    private static void Rewrite(Shard shard, Edata* e)
    {
        shard.Map.DeregisterBoundary(e);
        ExtentState s = e->State;
        e->State = ExtentState.Active;
        Assert.True(shard.Map.RegisterBoundary(e, Edata.NoSizeIndex, false));
        shard.Map.UpdateState(e, s);
    }

    private static bool ReturnsExtent(MethodInfo m) => m.ReturnType == typeof(Edata*);

    private static bool YieldsContents(MethodInfo m) =>
        m.ReturnType == typeof(RtreeContents) || m.GetParameters().Any(p => p.ParameterType == typeof(RtreeContents).MakeByRefType());

    private static bool TakesRawAddress(MethodInfo m) => m.GetParameters().Any(p =>
        p.ParameterType == typeof(void*) || p.ParameterType == typeof(byte*) || p.ParameterType == typeof(nint) || p.ParameterType == typeof(nuint) && p.Name!.Contains("addr", StringComparison.OrdinalIgnoreCase));
}
