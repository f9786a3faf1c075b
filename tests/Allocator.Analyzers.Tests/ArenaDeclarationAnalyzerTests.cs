using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Allocator.Tests.Infrastructure;

namespace Allocator.Analyzers.Tests;

/// <summary>Each ALLOC1xxx rule: reported where it should be, silent on the nearest valid declaration.</summary>
public sealed class ArenaDeclarationAnalyzerTests
{
    public static IEnumerable<object[]> InvalidCases() => Fixtures.Invalid.Select(static f => new object[] { f.Id, f.Name });

    [Theory]
    [MemberData(nameof(InvalidCases))]
    public Task Reports_the_rule_on_the_offending_argument(string id, string name) =>
        AnalyzerTest.VerifyAsync(Fixtures.Invalid.Single(f => f.Id == id && f.Name == name).Source);

    [Theory]
    [InlineData("ALLOC1001", "public sealed partial class Ok;")]
    [InlineData("ALLOC1001", "public partial class Outer { [Arena] public sealed partial class Inner; }", false)]
    [InlineData("ALLOC1002", "public partial class Ok;")]
    [InlineData("ALLOC1003", "[Arena, SizeClasses(LgQuantum = 9, LgPage = 16, LgGroup = 2, LgTinyMin = 3)] public sealed partial class Ok;", false)]
    [InlineData("ALLOC1003", "[Arena, SizeClasses(LgQuantum = 3, LgPage = 12, LgGroup = 0, LgTinyMin = 3)] public sealed partial class Ok;", false)]
    [InlineData("ALLOC1003", "[Arena, SizeClasses(LgQuantum = 3, LgPage = 12, LgGroup = 4)] public sealed partial class Ok;", false)]
    [InlineData("ALLOC1003", "[Arena, SizeClasses(LgQuantum = 4, LgPage = 12, LgGroup = 3)] public sealed partial class Ok;", false)]
    [InlineData("ALLOC1004", "[Arena(DirtyDecayMs = -1, MuzzyDecayMs = 9_223_372_036_854)] public sealed partial class Ok;", false)]
    [InlineData("ALLOC1004", "[Arena(DirtyDecayMs = 0, MuzzyDecayMs = 0)] public sealed partial class Ok;", false)]
    [InlineData("ALLOC1005", "[Arena, Guards(SmallEvery = 0, LargeEvery = 1)] public sealed partial class Ok;", false)]
    [InlineData("ALLOC1012", "[Arena, Guards(SmallEvery = 1, MappingShare = 1)] public sealed partial class Ok;", false)]
    [InlineData("ALLOC1012", "[Arena, Guards(SmallEvery = 1, MappingShare = 0.0001)] public sealed partial class Ok;", false)]
    [InlineData("ALLOC1006", "[Arena(OversizeThreshold = 4096)] public sealed partial class Ok;", false)]
    [InlineData("ALLOC1006", "[Arena(OversizeThreshold = 65536), SizeClasses(LgPage = 16)] public sealed partial class Ok;", false)]
    [InlineData("ALLOC1007", "[Arena(LgExtentMaxActiveFit = 0)] public sealed partial class Ok;", false)]
    [InlineData("ALLOC1007", "[Arena(LgExtentMaxActiveFit = 64)] public sealed partial class Ok;", false)]
    [InlineData("ALLOC1013", "[Arena(ProfileSampleBytes = 0)] public sealed partial class Ok;", false)]
    [InlineData("ALLOC1013", "[Arena(ProfileSampleBytes = 1)] public sealed partial class Ok;", false)]
    [InlineData("ALLOC1013", "[Arena(ProfileSampleBytes = 1L << 40)] public sealed partial class Ok;", false)]
    [InlineData("ALLOC1016", "[Arena(LeakReport = true)] public sealed partial class Ok;", false)]
    [InlineData("ALLOC1016", "[Arena(LeakReport = true, ProfileSampleBytes = 1)] public sealed partial class Ok;", false)]
    [InlineData("ALLOC1016", "[Arena(LeakReport = false, ProfileSampleBytes = 1 << 19)] public sealed partial class Ok;", false)]
    [InlineData("ALLOC1014", "[Arena, HugePages] public sealed partial class Ok;", false)]
    [InlineData("ALLOC1014", "[Arena, HugePages(Mode = HugePageMode.Off, HugifyDelayMs = 0, HugificationThreshold = 1, DirtyMult = 0, MinPurgeIntervalMs = 0)] public sealed partial class Ok;", false)]
    [InlineData("ALLOC1014", "[Arena, HugePages(HugificationThreshold = 1e-9, DirtyMult = -1, HugifyDelayMs = 9_223_372_036_854)] public sealed partial class Ok;", false)]
    public Task Valid_declaration_is_not_reported(string rule, string declaration, bool addArena = true)
    {
        Assert.StartsWith("ALLOC", rule);
        return AnalyzerTest.VerifyAsync("using Allocator;\n" + (addArena ? "[Arena] " : string.Empty) + declaration);
    }

    public static IEnumerable<object[]> ValidCases() => ValidDeclarations.All.Keys.Select(static k => new object[] { k });

    // The generator emits a policy for each of these (its snapshot tests), so none may be reported.
    [Theory]
    [MemberData(nameof(ValidCases))]
    public Task Declarations_the_generator_emits_are_not_reported(string name) =>
        AnalyzerTest.VerifyAsync(ValidDeclarations.All[name]);

    [Fact]
    public Task ALLOC1008_and_ALLOC1009_not_reported_for_valid_hooks() =>
        AnalyzerTest.VerifyAsync("""
            using Allocator;
            public sealed class ClassHooks : Allocator.Hooks.IExtentHooks
            {
            """ + Fixtures.HooksMembers + """

            }
            public struct StructHooks : Allocator.Hooks.IExtentHooks
            {
            """ + Fixtures.HooksMembers + """

            }
            [Arena, ExtentHooks(typeof(ClassHooks))] public sealed partial class A;
            [Arena, ExtentHooks(typeof(StructHooks))] public sealed partial class B;
            """);

    // Without [Arena] the values are not checked (nothing uses them); ALLOC1011 says so instead.
    [Fact]
    public Task Configuration_without_Arena_is_a_warning_and_its_values_are_not_checked() =>
        AnalyzerTest.VerifyAsync("""
            using Allocator;
            [{|ALLOC1011:Guards(SmallEvery = -1)|}] public sealed class NotAnArena;
            """);

    [Fact]
    public Task ALLOC1011_not_reported_with_Arena() =>
        AnalyzerTest.VerifyAsync("""
            using Allocator;
            [Arena, SizeClasses, Guards] public sealed partial class Configured;
            """);

    [Fact]
    public Task ALLOC1015_on_HugePages_with_custom_hooks() =>
        AnalyzerTest.VerifyAsync("""
            using Allocator;
            public sealed class Hooks : Allocator.Hooks.IExtentHooks
            {
            """ + Fixtures.HooksMembers + """

            }
            [Arena, ExtentHooks(typeof(Hooks)), {|ALLOC1015:HugePages(Mode = HugePageMode.Eager)|}] public sealed partial class Hooked;
            [Arena, {|ALLOC1015:HugePages|}]
            [ExtentHooks(typeof(Hooks))]
            public sealed partial class HookedLazy;
            """);

    // Off asks for nothing the hooks would ignore; without valid hooks ALLOC1008 says what is wrong.
    [Fact]
    public Task ALLOC1015_not_reported_when_off_or_without_valid_hooks() =>
        AnalyzerTest.VerifyAsync("""
            using Allocator;
            public sealed class Hooks : Allocator.Hooks.IExtentHooks
            {
            """ + Fixtures.HooksMembers + """

            }
            [Arena, ExtentHooks(typeof(Hooks)), HugePages(Mode = HugePageMode.Off)] public sealed partial class Off;
            [Arena, ExtentHooks({|ALLOC1008:typeof(object)|}), HugePages] public sealed partial class NotHooks;
            [Arena, HugePages(Mode = HugePageMode.Eager)] public sealed partial class OsMemory;
            """);

    [Fact]
    public Task Several_problems_are_all_reported() =>
        AnalyzerTest.VerifyAsync("""
            using Allocator;
            [Arena({|ALLOC1004:DirtyDecayMs = -7|}, {|ALLOC1006:OversizeThreshold = 1|})]
            [Guards({|ALLOC1005:SmallEvery = -1|}, {|ALLOC1005:LargeEvery = -1|})]
            public sealed class {|ALLOC1001:Everything|};
            """);
}
