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
    // One generated policy per test process for now: Arena<TPolicy> keeps its thread-cache key and
    // arena id counters in static fields of the generic class, so a second policy type restarts
    // them, picks up the first arena's orphaned thread cache (same index, same key) and crashes
    // the process. See the skipped test below. (EveryKnobChanged declares 64 KiB pages, which the
    // runtime refuses on a 4 KiB-page machine, so it is not run here.)
    [Theory]
    [InlineData(nameof(ValidDeclarations.GuardsOn), "Demo.GuardedArena")]
    public void Allocate_free_reset_stats_and_destroy_through_the_generated_policy(string name, string arenaType)
    {
        // Until the facade is generated, the workload uses Arena<TPolicy> with the generated Policy.
        var workload = $$"""
            internal static unsafe class Workload
            {
                public static long[] Run()
                {
                    var arena = new global::Allocator.Arena<global::{{arenaType}}.Policy>();
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

    [Fact]
    public void Two_generated_policies_in_one_process()
    {
        Allocate_free_reset_stats_and_destroy_through_the_generated_policy(nameof(ValidDeclarations.Defaults), "Demo.RequestArena");
        Allocate_free_reset_stats_and_destroy_through_the_generated_policy(nameof(ValidDeclarations.GuardsOff), "Demo.UnguardedArena");
    }
}
