using System.Linq;
using System.IO;
using System.Reflection;
using Allocator.Tests.Infrastructure;

namespace Allocator.Generators.Tests;

/// <summary>
/// A generated policy drives the real arena core in this process: the user's assembly (declaration,
/// generated policy and a small workload) is compiled, loaded and run against Allocator.Runtime.
/// </summary>
public sealed class GeneratedArenaTests
{
    // (EveryKnobChanged declares 64 KiB pages, which the runtime refuses on a 4 KiB-page machine,
    // so it is not run here.)
    [Theory]
    [InlineData(nameof(ValidDeclarations.GuardsOn), "Demo.GuardedArena")]
    public void Allocate_free_reset_stats_and_destroy_through_the_generated_policy(string name, string arenaType)
    {
        // The workload goes through the generated facade, as a user's code would.
        var workload = $$"""
            internal static unsafe class Workload
            {
                public static long[] Run()
                {
                    if (global::{{arenaType}}.Shared != global::{{arenaType}}.Shared) throw new global::System.Exception("Shared is not one instance");
                    using var pooled = global::{{arenaType}}.Shared.AsMemoryPool().Rent(100);
                    var arena = new global::{{arenaType}}();
                    try
                    {
                        byte* small = (byte*)arena.Allocate(200);
                        small[0] = 1;
                        small[199] = 2;
                        long usable = (long)arena.UsableSize(small);
                        byte* large = (byte*)arena.Allocate(100_000);
                        large[99_999] = 3;
                        long allocated = arena.GetStats().Allocated;
                        arena.Free(small);
                        arena.FreeSized(large, 100_000);
                        arena.Allocate(64);
                        arena.Reset();
                        var stats = arena.GetStats();
                        return new[] { usable, allocated, stats.Allocated, stats.Mapped };
                    }
                    finally
                    {
                        arena.Dispose();
                    }
                }
            }
            """;
        var (result, output) = GeneratorHarness.Run(ValidDeclarations.All[name], workload);
        Assert.Single(result.GeneratedSources);
        using var image = new MemoryStream();
        var emitted = output.Emit(image);
        Assert.True(emitted.Success, TestCompilation.Describe(emitted.Diagnostics));

        var values = (long[])Assembly.Load(image.ToArray()).GetType("Workload", throwOnError: true)!
            .GetMethod("Run")!.Invoke(null, null)!;

        Assert.True(values[0] >= 200, $"usable size {values[0]}");
        Assert.True(values[1] >= 200 + 100_000, $"allocated {values[1]}");
        Assert.Equal(0, values[2]);
        Assert.True(values[3] > 0, "a live arena maps memory");
    }

    // The attribute reaches the page allocator: a [HugePages] arena serves a slab from a pageslab, a plain one does not.
    [Theory]
    [InlineData(nameof(ValidDeclarations.HugePagesEager), "Demo.EagerArena", 1L)]
    [InlineData(nameof(ValidDeclarations.HugePagesTuned), "Demo.HugeArena", 1L)]
    [InlineData(nameof(ValidDeclarations.Defaults), "Demo.RequestArena", 0L)]
    public void HugePages_declaration_serves_slabs_from_pageslabs(string name, string arenaType, long pageslabs)
    {
        var workload = $$"""
            internal static unsafe class Workload
            {
                public static long[] Run()
                {
                    using var arena = new global::{{arenaType}}();
                    byte* small = (byte*)arena.Allocate(200);
                    small[199] = 1;
                    var live = arena.GetStats().Pages;
                    arena.Free(small);
                    arena.Validate();
                    return new[] { live.Pageslabs, live.HpaActive };
                }
            }
            """;
        var (result, output) = GeneratorHarness.Run(ValidDeclarations.All[name], workload);
        Assert.Single(result.GeneratedSources);
        using var image = new MemoryStream();
        var emitted = output.Emit(image);
        Assert.True(emitted.Success, TestCompilation.Describe(emitted.Diagnostics));

        var values = (long[])Assembly.Load(image.ToArray()).GetType("Workload", throwOnError: true)!
            .GetMethod("Run")!.Invoke(null, null)!;

        Assert.Equal(pageslabs, values[0]);
        Assert.Equal(pageslabs != 0, values[1] > 0);
    }

    [Fact]
    public void The_facade_gives_the_heap_profile_of_its_arena()
    {
        // Blocks of 2 MiB at a mean interval of 2^19 bytes: each is sampled with probability
        // 1 - e^-4 (98 %), so some of eight are, and the profile names the workload's method.
        var workload = """
            internal static unsafe class Workload
            {
                public static long[] Run()
                {
                    var arena = new global::Demo.ProfiledArena();
                    try
                    {
                        var blocks = new void*[8];
                        for (int i = 0; i < blocks.Length; i++) blocks[i] = arena.Allocate(2 << 20);
                        global::Allocator.Profiling.HeapProfile profile = arena.GetHeapProfile();
                        long named = 0;
                        foreach (var site in profile.Sites)
                            if (global::System.Linq.Enumerable.Contains(site.Frames, "Workload.Run")) named += site.LiveSamples;
                        foreach (void* p in blocks) arena.Free(p);
                        return new[] { profile.SampleInterval, named, arena.GetHeapProfile().LiveBytes };
                    }
                    finally
                    {
                        arena.Dispose();
                    }
                }
            }
            """;
        var (_, output) = GeneratorHarness.Run(ValidDeclarations.Profiled, workload);
        using var image = new MemoryStream();
        var emitted = output.Emit(image);
        Assert.True(emitted.Success, TestCompilation.Describe(emitted.Diagnostics));

        var values = (long[])Assembly.Load(image.ToArray()).GetType("Workload", throwOnError: true)!
            .GetMethod("Run")!.Invoke(null, null)!;
        Assert.Equal(1 << 19, values[0]);
        Assert.True(values[1] > 0, "no sample at the workload's method");
        Assert.Equal(0, values[2]);
    }

    [Fact]
    public void A_declared_leak_report_names_every_block_left_at_dispose()
    {
        // [Arena(LeakReport = true)] alone: every block is sampled (interval 1), and Dispose raises
        // the facade's LeaksFound with exactly the blocks not freed.
        var workload = """
            internal static unsafe class Workload
            {
                public static long[] Run()
                {
                    var arena = new global::Demo.LeakCheckedArena();
                    long blocks = -1, bytes = -1, atRun = -1;
                    arena.LeaksFound += (sender, report) =>
                    {
                        blocks = report.LeakedBlocks;
                        bytes = report.LeakedBytes;
                        atRun = 0;
                        foreach (var site in report.Sites)
                            if (global::System.Linq.Enumerable.Contains(site.Frames, "Workload.Run")) atRun += site.LiveCount;
                    };
                    long interval = arena.GetHeapProfile().SampleInterval;
                    var kept = new void*[5];
                    for (int i = 0; i < kept.Length; i++) kept[i] = arena.Allocate(100);
                    arena.Free(arena.Allocate(100));
                    arena.FreeSized(arena.Allocate(3000), 3000);
                    void* large = arena.Allocate(40_000);
                    arena.Dispose();
                    return new[] { interval, blocks, bytes, atRun };
                }
            }
            """;
        var (_, output) = GeneratorHarness.Run(ValidDeclarations.LeakReport, workload);
        using var image = new MemoryStream();
        var emitted = output.Emit(image);
        Assert.True(emitted.Success, TestCompilation.Describe(emitted.Diagnostics));

        var values = (long[])Assembly.Load(image.ToArray()).GetType("Workload", throwOnError: true)!
            .GetMethod("Run")!.Invoke(null, null)!;
        Assert.Equal(1, values[0]);
        Assert.Equal(6, values[1]);
        // Five blocks of the 112-byte class and one of 40 960 bytes (the large class of 40 000).
        Assert.Equal(5 * 112 + 40_960, values[2]);
        Assert.Equal(6, values[3]);
    }

    [Fact]
    public void Two_generated_policies_in_one_process()
    {
        Allocate_free_reset_stats_and_destroy_through_the_generated_policy(nameof(ValidDeclarations.Defaults), "Demo.RequestArena");
        Allocate_free_reset_stats_and_destroy_through_the_generated_policy(nameof(ValidDeclarations.GuardsOff), "Demo.UnguardedArena");
    }

    [Theory]
    [InlineData(nameof(ValidDeclarations.Defaults), "Demo.RequestArena")]
    [InlineData(nameof(ValidDeclarations.GuardsOn), "Demo.GuardedArena")]
    public void Native_entry_points_called_through_unmanaged_function_pointers_use_the_shared_arena(string name, string arenaType)
    {
        // Called as C code would call them: through unmanaged function pointers, nothing managed in between.
        var workload = $$"""
            internal static unsafe class Workload
            {
                public static long[] Run()
                {
                    delegate* unmanaged<nuint, void*> malloc = &global::{{arenaType}}.Native.Malloc;
                    delegate* unmanaged<nuint, nuint, void*> calloc = &global::{{arenaType}}.Native.Calloc;
                    delegate* unmanaged<void*, nuint, void*> realloc = &global::{{arenaType}}.Native.Realloc;
                    delegate* unmanaged<void*, void> free = &global::{{arenaType}}.Native.Free;
                    delegate* unmanaged<void*, nuint> usableSize = &global::{{arenaType}}.Native.UsableSize;
                    delegate* unmanaged<nuint, nuint, void*> alignedAlloc = &global::{{arenaType}}.Native.AlignedAlloc;
                    var shared = global::{{arenaType}}.Shared;

                    byte* block = (byte*)malloc(300);
                    long usable = (long)usableSize(block);
                    long sharedUsable = (long)shared.UsableSize(block);
                    long allocatedWhileLive = shared.GetStats().Allocated;
                    for (int i = 0; i < 300; i++) block[i] = (byte)i;
                    block = (byte*)realloc(block, 50_000);
                    long kept = 1;
                    for (int i = 0; i < 300; i++) if (block[i] != (byte)i) kept = 0;
                    long grownUsable = (long)usableSize(block);

                    // A freed block of the same class comes back dirty from the thread cache; calloc must zero it.
                    byte* dirty = (byte*)malloc(1000);
                    for (int i = 0; i < 1000; i++) dirty[i] = 0xAB;
                    free(dirty);
                    byte* zeroed = (byte*)calloc(10, 100);
                    long nonZero = 0;
                    for (int i = 0; i < 1000; i++) if (zeroed[i] != 0) nonZero++;
                    long overflowIsNull = calloc(nuint.MaxValue / 2, 4) == null ? 1 : 0;

                    byte* aligned = (byte*)alignedAlloc(4096, 100);
                    long alignment = (long)((nuint)aligned & 4095);
                    long badAlignmentIsNull = alignedAlloc(48, 100) == null ? 1 : 0;

                    free(null);
                    byte* fromNull = (byte*)realloc(null, 64);
                    long nullSize = (long)usableSize(null);

                    free(block);
                    free(zeroed);
                    free(aligned);
                    free(fromNull);
                    shared.Purge();
                    long allocatedAfter = shared.GetStats().Allocated;
                    shared.Validate();
                    return new[] { usable, sharedUsable, allocatedWhileLive, kept, grownUsable, nonZero, overflowIsNull, alignment, badAlignmentIsNull, fromNull == null ? 0 : 1, nullSize, allocatedAfter };
                }
            }
            """;
        var (result, output) = GeneratorHarness.Run(ValidDeclarations.All[name], workload);
        Assert.Single(result.GeneratedSources);
        using var image = new MemoryStream();
        var emitted = output.Emit(image);
        Assert.True(emitted.Success, TestCompilation.Describe(emitted.Diagnostics));

        var values = (long[])Assembly.Load(image.ToArray()).GetType("Workload", throwOnError: true)!
            .GetMethod("Run")!.Invoke(null, null)!;

        Assert.True(values[0] >= 300, $"usable size {values[0]}");
        Assert.Equal(values[0], values[1]);
        Assert.True(values[2] >= 300, $"the shared arena's allocated bytes while a block is live: {values[2]}");
        Assert.Equal(1, values[3]);
        Assert.True(values[4] >= 50_000, $"usable size after realloc {values[4]}");
        Assert.Equal(0, values[5]);
        Assert.Equal(1, values[6]);
        Assert.Equal(0, values[7]);
        Assert.Equal(1, values[8]);
        Assert.Equal(1, values[9]);
        Assert.Equal(0, values[10]);
        Assert.Equal(0, values[11]);
    }

    [Fact]
    public void A_project_without_unsafe_code_gets_the_safe_members_only_and_compiles()
    {
        var workload = """
            internal static class Workload
            {
                public static int Run()
                {
                    using var arena = new global::Demo.RequestArena();
                    var span = arena.AllocateArray<int>(10);
                    span[9] = 42;
                    int value = span[9];
                    arena.FreeArray(span);
                    using var owner = arena.Rent(16);
                    return value + (int)(arena.GetStats().Mapped > 0 ? 1 : 0);
                }
            }
            """;
        var compilation = TestCompilation.Create(ValidDeclarations.All[nameof(ValidDeclarations.Defaults)], workload)
            .WithOptions(TestCompilation.Create().Options.WithAllowUnsafe(false));
        var driver = GeneratorHarness.CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        string generated = driver.GetRunResult().Results.Single().GeneratedSources.Single().SourceText.ToString();
        Assert.DoesNotContain("unsafe", generated);
        Assert.DoesNotContain("void*", generated);
        using var image = new MemoryStream();
        var emitted = output.Emit(image);
        Assert.True(emitted.Success, TestCompilation.Describe(emitted.Diagnostics));
        var result = (int)Assembly.Load(image.ToArray()).GetType("Workload", throwOnError: true)!.GetMethod("Run")!.Invoke(null, null)!;
        Assert.Equal(43, result);
    }
}
