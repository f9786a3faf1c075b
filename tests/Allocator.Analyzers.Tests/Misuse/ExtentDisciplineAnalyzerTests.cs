using System.Threading.Tasks;
using Allocator.Analyzers.Misuse;
using Allocator.Map;

namespace Allocator.Analyzers.Tests.Misuse;

/// <summary>ALLOC2001 (extent from an address where an acquired one is required) and ALLOC2002 (direct hook split/merge).</summary>
public sealed class ExtentDisciplineAnalyzerTests
{
    private static Task Verify(string members) => AnalyzerTest.VerifyAsync<ExtentDisciplineAnalyzer>($$"""
        using System;
        using System.Runtime.CompilerServices;
        using Allocator.Extents;
        using Allocator.Hooks;
        using Allocator.Map;
        using Allocator.Metadata;
        using ExtentOps = Allocator.Extents.ExtentOps<Allocator.Extents.RuntimeExtentPolicy>;

        public static unsafe class Code
        {
        {{members}}
        }
        """);

    // --- ALLOC2001, reported ---

    [Fact]
    public Task ALLOC2001_pointer_cast_to_Edata() => Verify("""
            public static void M(ExtentContext ctx, Ecache ecache, void* address)
            {
                Edata* e = (Edata*)address;
                ExtentOps.Dalloc(ctx, ecache, {|ALLOC2001:e|});
            }
        """);

    [Fact]
    public Task ALLOC2001_address_lookup_result() => Verify("""
            public static void M(ExtentContext ctx, Ecache ecache, ExtentMap map, void* address)
            {
                if (map.TryLookup(address, out var contents))
                {
                    ExtentOps.Dalloc(ctx, ecache, {|ALLOC2001:contents.Edata|});
                }
            }
        """);

    [Fact]
    public Task ALLOC2001_neighbor_found_by_arithmetic_and_lookup_through_an_alias() => Verify("""
            public static void M(ExtentContext ctx, ExtentMap map, Edata* e, nuint page)
            {
                byte* below = (byte*)e->Base - page;
                if (!map.Tree.TryRead(below, out RtreeContents c)) return;
                Edata* neighbor = c.Edata;
                Edata* alias = neighbor;
                ExtentOps.MergeWrapper(ctx, {|ALLOC2001:alias|}, e);
            }
        """);

    [Fact]
    public Task ALLOC2001_user_declared_parameter_and_Unsafe() => Verify("""
            private static void Mine([AcquiredExtent] Edata* e) { }

            public static void M(void* address)
            {
                Mine({|ALLOC2001:(Edata*)Unsafe.AsPointer(ref Unsafe.AsRef<Edata>(address))|});
            }
        """);

    [Fact]
    public Task ALLOC2001_address_on_one_branch_is_enough() => Verify("""
            public static void M(ExtentContext ctx, Ecache ecache, Edata* held, void* address, bool flag)
            {
                Edata* e = held;
                if (flag) e = (Edata*)address;
                ExtentOps.Dalloc(ctx, ecache, {|ALLOC2001:e|});
            }
        """);

    [Fact]
    public Task ALLOC2001_inside_a_lambda_and_a_loop() => Verify("""
            public static void M(ExtentContext ctx, Ecache ecache, void*[] addresses)
            {
                Action<int> free = i =>
                {
                    Edata* e = (Edata*)addresses[i];
                    ExtentOps.Dalloc(ctx, ecache, {|ALLOC2001:e|});
                };
                for (int i = 0; i < addresses.Length; i++)
                {
                    ExtentOps.DallocWrapper(ctx, {|ALLOC2001:(Edata*)addresses[i]|});
                }
            }
        """);

    // --- ALLOC2001, not reported ---

    [Fact]
    public Task ALLOC2001_not_reported_for_an_acquired_neighbor_null_or_a_held_extent() => Verify("""
            public static void M(ExtentContext ctx, Ecache ecache, ExtentMap map, Edata* e)
            {
                Edata* n = map.TryAcquireNeighbor(e, ExtentState.Dirty, forward: true, expanding: false);
                if (n != null) ExtentOps.MergeWrapper(ctx, e, n);
                Edata* fresh = ExtentOps.Alloc(ctx, ecache, null, 4096, 4096, false, false);
                ExtentOps.Dalloc(ctx, ecache, fresh);
            }
        """);

    [Fact]
    public Task ALLOC2001_not_reported_after_reassignment() => Verify("""
            public static void M(ExtentContext ctx, Ecache ecache, void* address)
            {
                Edata* e = (Edata*)address;
                e = ExtentOps.Alloc(ctx, ecache, null, 4096, 4096, false, false);
                ExtentOps.Dalloc(ctx, ecache, e);
            }
        """);

    [Fact]
    public Task ALLOC2001_not_reported_for_a_held_extent_round_tripped_through_void_pointer() => Verify("""
            public static void M(ExtentContext ctx, Ecache ecache, Edata* held)
            {
                void* opaque = held;
                Edata* back = (Edata*)opaque;
                ExtentOps.Dalloc(ctx, ecache, back);
            }
        """);

    [Fact]
    public Task ALLOC2001_not_reported_for_integer_handles_kept_in_a_collection() => Verify("""
            public static void M(ExtentContext ctx, Ecache ecache, System.Collections.Generic.List<nint> held)
            {
                foreach (nint handle in held) ExtentOps.Dalloc(ctx, ecache, (Edata*)handle);
            }
        """);

    [Fact]
    public Task ALLOC2001_in_a_local_function() => Verify("""
            public static void M(ExtentContext ctx, ExtentMap map, Edata* e)
            {
                Release(e->Past);

                void Release(void* next)
                {
                    if (map.TryLookup(next, out var c)) map.Release({|ALLOC2001:c.Edata|}, ExtentState.Dirty);
                }
            }
        """);

    [Fact]
    public Task ALLOC2001_not_reported_for_read_only_use_of_a_lookup() => Verify("""
            public static nuint M(ExtentMap map, void* address)
            {
                if (!map.TryLookup(address, out var c) || c.Edata == null) return 0;
                return map.IsMapped(c.Edata) ? c.Edata->Size : 0;
            }
        """);

    // --- ALLOC2002 ---

    [Fact]
    public Task ALLOC2002_direct_split_and_merge() => Verify("""
            public static void M(IExtentHooks hooks, ExtentContext ctx, void* a, void* b)
            {
                {|ALLOC2002:hooks.Split(a, 8192, 4096, 4096, true, 0)|};
                {|ALLOC2002:ctx.Hooks.Merge(a, 4096, b, 4096, true, 0)|};
            }

            public static bool G<T>(T hooks, void* a) where T : IExtentHooks => {|ALLOC2002:hooks.Split(a, 8192, 4096, 4096, true, 0)|};
        """);

    [Fact]
    public Task ALLOC2002_a_hook_calling_the_other_operation_is_reported() => AnalyzerTest.VerifyAsync<ExtentDisciplineAnalyzer>("""
        using Allocator.Extents;
        using Allocator.Hooks;
        using Allocator.Map;
        using Allocator.Metadata;
        using ExtentOps = Allocator.Extents.ExtentOps<Allocator.Extents.RuntimeExtentPolicy>;

        public sealed unsafe class Hooks : IExtentHooks
        {
            private readonly IExtentHooks _inner;
            public Hooks(IExtentHooks inner) => _inner = inner;
            public void* Alloc(void* newAddress, nuint size, nuint alignment, ref bool zero, ref bool commit, uint arenaIndex) => _inner.Alloc(newAddress, size, alignment, ref zero, ref commit, arenaIndex);
            public bool Dalloc(void* address, nuint size, bool committed, uint arenaIndex) => _inner.Dalloc(address, size, committed, arenaIndex);
            public void Destroy(void* address, nuint size, bool committed, uint arenaIndex) => _inner.Destroy(address, size, committed, arenaIndex);
            public bool Commit(void* address, nuint size, nuint offset, nuint length, uint arenaIndex) => _inner.Commit(address, size, offset, length, arenaIndex);
            public bool Decommit(void* address, nuint size, nuint offset, nuint length, uint arenaIndex) => _inner.Decommit(address, size, offset, length, arenaIndex);
            public bool PurgeLazy(void* address, nuint size, nuint offset, nuint length, uint arenaIndex) => _inner.PurgeLazy(address, size, offset, length, arenaIndex);
            public bool PurgeForced(void* address, nuint size, nuint offset, nuint length, uint arenaIndex) => _inner.PurgeForced(address, size, offset, length, arenaIndex);

            // Forwarding to the wrapped hooks is the hook chain: not reported.
            public bool Split(void* address, nuint size, nuint sizeA, nuint sizeB, bool committed, uint arenaIndex) =>
                _inner.Split(address, size, sizeA, sizeB, committed, arenaIndex);

            public bool Merge(void* addressA, nuint sizeA, void* addressB, nuint sizeB, bool committed, uint arenaIndex) =>
                {|ALLOC2002:_inner.Split(addressA, sizeA + sizeB, sizeA, sizeB, committed, arenaIndex)|} && _inner.Merge(addressA, sizeA, addressB, sizeB, committed, arenaIndex);
        }
        """);

    [Fact]
    public Task ALLOC2002_not_reported_for_the_wrappers_concrete_hooks_other_members_or_other_Split_methods() => Verify("""
            private sealed class Rope { public bool Split(void* a, nuint size, nuint sizeA, nuint sizeB, bool committed, uint arenaIndex) => true; }

            public static void M(ExtentContext ctx, IExtentHooks hooks, DefaultExtentHooks concrete, Edata* e, Edata* f, void* a)
            {
                // A concrete hooks class called directly is that class being tested or composed.
                concrete.Split(a, 8192, 4096, 4096, true, 0);
                Edata* trail = ExtentOps.SplitWrapper(ctx, e, 4096, 4096);
                ExtentOps.MergeWrapper(ctx, e, f);
                hooks.Commit(a, 8192, 0, 4096, 0);
                new Rope().Split(a, 8192, 4096, 4096, true, 0);
            }
        """);
}
