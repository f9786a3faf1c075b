using System;
using System.IO;
using System.Linq;
using System.Reflection;
using Allocator.Sizing;
using Allocator.Tests.Infrastructure;

namespace Allocator.Generators.Tests;

/// <summary>
/// The tables baked into a generated policy equal what the runtime's <see cref="SizeClasses"/>
/// computes for the same parameters, read back by running the generated code.
/// </summary>
public sealed class TableTests
{
    [Theory]
    [InlineData(4, 12, 2, 3, 0)]
    [InlineData(4, 12, 2, 3, 1)]
    [InlineData(3, 16, 1, 3, 4)]
    [InlineData(4, 14, 2, 3, 1)]
    [InlineData(4, 12, 0, 3, 0)]
    [InlineData(5, 13, 2, 4, 2)]
    public void Generated_tables_equal_runtime_size_classes(int lgQuantum, int lgPage, int lgGroup, int lgTinyMin, int smallEvery)
    {
        var probe = LoadProbe($$"""
            using Allocator;

            [Arena(Retain = true)]
            [SizeClasses(LgQuantum = {{lgQuantum}}, LgPage = {{lgPage}}, LgGroup = {{lgGroup}}, LgTinyMin = {{lgTinyMin}})]
            [Guards(SmallEvery = {{smallEvery}})]
            internal sealed partial class Probed;
            """);
        var expected = new SizeClasses(lgQuantum, lgPage, lgGroup, lgTinyMin);
        var bins = Enumerable.Range(0, expected.BinCount).Select(expected.GetBin).ToArray();

        Assert.Equal(expected.Count, Value<int>(probe, "SizeClassCount"));
        Assert.Equal(expected.BinCount, Value<int>(probe, "BinCount"));
        Assert.Equal(expected.PageSizeClassCount, Value<int>(probe, "PageSizeClassCount"));
        Assert.Equal(expected.LookupMaxClass, Value<ulong>(probe, "LookupMaxClass"));
        Assert.Equal(expected.SmallMaxClass, Value<ulong>(probe, "SmallMaxClass"));
        Assert.Equal(expected.LargeMinClass, Value<ulong>(probe, "LargeMinClass"));
        Assert.Equal(expected.LargeMaxClass, Value<ulong>(probe, "LargeMaxClass"));
        Assert.Equal(expected.LgTinyMin, Value<int>(probe, "LookupShift"));
        Assert.Equal(Enumerable.Range(0, expected.Count).Select(expected.IndexToSize), Value<ulong[]>(probe, "ClassSizes"));
        Assert.Equal(expected.GetSizeToIndexTable(), Value<byte[]>(probe, "SizeToIndexLookup"));
        Assert.Equal(bins.Select(static b => b.RegionSize), Value<ulong[]>(probe, "BinRegionSizes"));
        Assert.Equal(bins.Select(static b => b.SlabSize), Value<ulong[]>(probe, "BinSlabSizes"));
        Assert.Equal(bins.Select(static b => (uint)b.RegionsPerSlab), Value<uint[]>(probe, "BinRegionsPerSlab"));
        Assert.Equal(bins.Select(static b => b.Div.Magic), Value<uint[]>(probe, "BinDivMagic"));

        // The baked lookup answers like the runtime for every size it covers.
        var lookup = Value<byte[]>(probe, "SizeToIndexLookup");
        for (var size = 1UL; size <= expected.LookupMaxClass; size++)
        {
            Assert.Equal(expected.SizeToIndex(size), lookup[(int)((size + (1UL << expected.LgTinyMin) - 1) >> expected.LgTinyMin)]);
        }

        // Guarded cache: each distinct slab size plus its guard page (retain on), only when slabs are guarded.
        var guarded = smallEvery == 0
            ? Array.Empty<ulong>()
            : bins.Select(b => b.SlabSize + expected.PageSize).Distinct().Order().ToArray();
        Assert.Equal(guarded, Value<ulong[]>(probe, "GuardedExtentSizes"));
        Assert.Equal(guarded.Length, Value<int>(probe, "GuardedCacheBinCount"));
        Assert.Equal(guarded.Length == 0 ? 0UL : guarded[^1], Value<ulong>(probe, "GuardedCacheMaxExtentSize"));
    }

    [Fact]
    public void Default_guarded_cache_holds_slabs_of_one_to_seven_pages_plus_a_guard()
    {
        var probe = LoadProbe("""
            using Allocator;
            [Arena, Guards(SmallEvery = 1)] internal sealed partial class Probed;
            """);

        Assert.Equal(new ulong[] { 2 * 4096, 3 * 4096, 4 * 4096, 6 * 4096, 8 * 4096 }, Value<ulong[]>(probe, "GuardedExtentSizes"));
        Assert.Equal(1, Value<int>(probe, "GuardPagesPerSlab"));
    }

    [Fact]
    public void Without_retain_guarded_slabs_have_a_guard_page_on_each_side()
    {
        var probe = LoadProbe("""
            using Allocator;
            [Arena(Retain = false), Guards(SmallEvery = 1)] internal sealed partial class Probed;
            """);

        Assert.Equal(2, Value<int>(probe, "GuardPagesPerSlab"));
        Assert.Equal(9UL * 4096, Value<ulong>(probe, "GuardedCacheMaxExtentSize"));
    }

    [Fact]
    public void Tables_are_data_in_the_assembly_not_allocated_arrays()
    {
        var (_, output) = GeneratorHarness.Run(ValidDeclarations.Defaults);
        using var image = new MemoryStream();
        Assert.True(output.Emit(image).Success);

        // The compiler stores constant span data as fields of <PrivateImplementationDetails>.
        var details = Assembly.Load(image.ToArray()).GetType("<PrivateImplementationDetails>");
        Assert.NotNull(details);
        Assert.NotEmpty(details!.GetFields(BindingFlags.Static | BindingFlags.NonPublic));
    }

    // Every member of the policy is read through a generated accessor, because spans cannot be
    // returned through reflection; this also runs the generated code.
    private static Type LoadProbe(string declaration)
    {
        const string Accessors = """
            internal static class Probe
            {
                public static int SizeClassCount() => Probed.Policy.SizeClassCount;
                public static int BinCount() => Probed.Policy.BinCount;
                public static int PageSizeClassCount() => Probed.Policy.PageSizeClassCount;
                public static ulong LookupMaxClass() => Probed.Policy.LookupMaxClass;
                public static ulong SmallMaxClass() => Probed.Policy.SmallMaxClass;
                public static ulong LargeMinClass() => Probed.Policy.LargeMinClass;
                public static ulong LargeMaxClass() => Probed.Policy.LargeMaxClass;
                public static int LookupShift() => Probed.Policy.LookupShift;
                public static ulong[] ClassSizes() => Probed.Policy.ClassSizes.ToArray();
                public static byte[] SizeToIndexLookup() => Probed.Policy.SizeToIndexLookup.ToArray();
                public static uint[] BinDivMagic() => Probed.Policy.BinDivMagic.ToArray();
                public static ulong[] BinRegionSizes() => Probed.Policy.BinRegionSizes.ToArray();
                public static ulong[] BinSlabSizes() => Probed.Policy.BinSlabSizes.ToArray();
                public static uint[] BinRegionsPerSlab() => Probed.Policy.BinRegionsPerSlab.ToArray();
                public static int GuardPagesPerSlab() => Probed.Policy.GuardPagesPerSlab;
                public static int GuardedCacheBinCount() => Probed.Policy.GuardedCacheBinCount;
                public static ulong GuardedCacheMaxExtentSize() => Probed.Policy.GuardedCacheMaxExtentSize;
                public static ulong[] GuardedExtentSizes() => Probed.Policy.GuardedExtentSizes.ToArray();
            }
            """;
        var (result, output) = GeneratorHarness.Run(declaration, Accessors);
        Assert.Single(result.GeneratedSources);
        using var image = new MemoryStream();
        var emitted = output.Emit(image);
        Assert.True(emitted.Success, TestCompilation.Describe(emitted.Diagnostics));
        return Assembly.Load(image.ToArray()).GetType("Probe", throwOnError: true)!;
    }

    private static T Value<T>(Type probe, string name) => (T)probe.GetMethod(name)!.Invoke(null, null)!;
}
