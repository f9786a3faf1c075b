using System.Collections.Generic;
using System.Text.RegularExpressions;

namespace Allocator.Tests.Infrastructure;

/// <summary>
/// Declarations shared by the analyzer and generator tests. Invalid ones carry analyzer markup
/// (<c>{|ALLOCnnnn:text|}</c>) around the span that must be underlined; the generator tests strip
/// it and check that nothing is emitted for them.
/// </summary>
public static partial class Fixtures
{
    /// <summary>The members of an <c>IExtentHooks</c> implementation that does nothing.</summary>
    public const string HooksMembers = """
            public unsafe void* Alloc(void* newAddress, nuint size, nuint alignment, ref bool zero, ref bool commit, uint arenaIndex) => null;
            public unsafe bool Dalloc(void* address, nuint size, bool committed, uint arenaIndex) => false;
            public unsafe void Destroy(void* address, nuint size, bool committed, uint arenaIndex) { }
            public unsafe bool Commit(void* address, nuint size, nuint offset, nuint length, uint arenaIndex) => false;
            public unsafe bool Decommit(void* address, nuint size, nuint offset, nuint length, uint arenaIndex) => false;
            public unsafe bool PurgeLazy(void* address, nuint size, nuint offset, nuint length, uint arenaIndex) => false;
            public unsafe bool PurgeForced(void* address, nuint size, nuint offset, nuint length, uint arenaIndex) => false;
            public unsafe bool Split(void* address, nuint size, nuint sizeA, nuint sizeB, bool committed, uint arenaIndex) => false;
            public unsafe bool Merge(void* addressA, nuint sizeA, void* addressB, nuint sizeB, bool committed, uint arenaIndex) => false;
        """;

    /// <summary>Each invalid declaration: the rule it breaks, a name for the test, the marked-up source.</summary>
    public static IReadOnlyList<(string Id, string Name, string Source)> Invalid { get; } =
    [
        ("ALLOC1001", "NotPartial", """
            using Allocator;
            [Arena] public sealed class {|ALLOC1001:NotPartial|};
            """),
        ("ALLOC1001", "ContainingNotPartial", """
            using Allocator;
            public class {|ALLOC1001:Outer|}
            {
                [Arena] public sealed partial class Inner;
            }
            """),
        ("ALLOC1002", "Static", """
            using Allocator;
            [Arena] public static partial class {|ALLOC1002:StaticArena|};
            """),
        ("ALLOC1002", "Generic", """
            using Allocator;
            [Arena] public partial class {|ALLOC1002:GenericArena|}<T>;
            """),
        ("ALLOC1002", "Abstract", """
            using Allocator;
            [Arena] public abstract partial class {|ALLOC1002:AbstractArena|};
            """),
        ("ALLOC1002", "Record", """
            using Allocator;
            [Arena] public sealed partial record {|ALLOC1002:RecordArena|};
            """),
        ("ALLOC1002", "NestedInGeneric", """
            using Allocator;
            public partial class Outer<T>
            {
                [Arena] public sealed partial class {|ALLOC1002:Inner|};
            }
            """),
        ("ALLOC1003", "QuantumNotBelowPage", """
            using Allocator;
            [Arena, SizeClasses({|ALLOC1003:LgQuantum = 12|})] public sealed partial class BadClasses;
            """),
        ("ALLOC1003", "PageTooLarge", """
            using Allocator;
            [Arena]
            [SizeClasses(LgQuantum = 4, {|ALLOC1003:LgPage = 21|})]
            public sealed partial class BadClasses;
            """),
        ("ALLOC1003", "TinyAboveQuantum", """
            using Allocator;
            [Arena, SizeClasses(LgQuantum = 3, {|ALLOC1003:LgTinyMin = 4|})] public sealed partial class BadClasses;
            """),
        ("ALLOC1003", "GroupOutOfRange", """
            using Allocator;
            [Arena, SizeClasses({|ALLOC1003:LgGroup = 5|})] public sealed partial class BadClasses;
            """),
        ("ALLOC1004", "DirtyDecayBelowMinusOne", """
            using Allocator;
            [Arena({|ALLOC1004:DirtyDecayMs = -2|})] public sealed partial class BadDecay;
            """),
        ("ALLOC1004", "MuzzyDecayAboveMax", """
            using Allocator;
            [Arena(Retain = true, {|ALLOC1004:MuzzyDecayMs = long.MaxValue|})] public sealed partial class BadDecay;
            """),
        ("ALLOC1004", "DirtyDecayAboveTheRuntimesClock", """
            using Allocator;
            [Arena({|ALLOC1004:DirtyDecayMs = 9_223_372_036_855|})] public sealed partial class BadDecay;
            """),
        ("ALLOC1005", "SmallEveryNegative", """
            using Allocator;
            [Arena, Guards({|ALLOC1005:SmallEvery = -1|})] public sealed partial class BadGuards;
            """),
        ("ALLOC1005", "LargeEveryNegative", """
            using Allocator;
            [Arena]
            [Guards(SmallEvery = 1, {|ALLOC1005:LargeEvery = -64|})]
            public sealed partial class BadGuards;
            """),
        ("ALLOC1012", "MappingShareZero", """
            using Allocator;
            [Arena, Guards(SmallEvery = 1, {|ALLOC1012:MappingShare = 0|})] public sealed partial class BadShare;
            """),
        ("ALLOC1012", "MappingShareAboveOne", """
            using Allocator;
            [Arena, Guards({|ALLOC1012:MappingShare = 1.000001|})] public sealed partial class BadShare;
            """),
        ("ALLOC1012", "MappingShareNaN", """
            using Allocator;
            [Arena, Guards(LargeEvery = 8, {|ALLOC1012:MappingShare = double.NaN|})] public sealed partial class BadShare;
            """),
        ("ALLOC1006", "OversizeBelowPage", """
            using Allocator;
            [Arena({|ALLOC1006:OversizeThreshold = 4095|})] public sealed partial class SmallOversize;
            """),
        ("ALLOC1007", "FitAboveMax", """
            using Allocator;
            [Arena({|ALLOC1007:LgExtentMaxActiveFit = 65|})] public sealed partial class BadFit;
            """),
        ("ALLOC1007", "FitNegative", """
            using Allocator;
            [Arena({|ALLOC1007:LgExtentMaxActiveFit = -1|})] public sealed partial class BadFit;
            """),
        ("ALLOC1013", "ProfileIntervalNegative", """
            using Allocator;
            [Arena({|ALLOC1013:ProfileSampleBytes = -1|})] public sealed partial class BadProfile;
            """),
        ("ALLOC1013", "ProfileIntervalAboveMax", """
            using Allocator;
            [Arena({|ALLOC1013:ProfileSampleBytes = (1L << 40) + 1|})] public sealed partial class BadProfile;
            """),
        ("ALLOC1016", "LeakReportWithInterval", """
            using Allocator;
            [Arena(LeakReport = true, {|ALLOC1016:ProfileSampleBytes = 1 << 19|})] public sealed partial class BadLeaks;
            """),
        ("ALLOC1014", "HugePageModeUndefined", """
            using Allocator;
            [Arena, HugePages({|ALLOC1014:Mode = (HugePageMode)3|})] public sealed partial class BadHugePages;
            """),
        ("ALLOC1014", "HugifyDelayNegative", """
            using Allocator;
            [Arena, HugePages({|ALLOC1014:HugifyDelayMs = -1|})] public sealed partial class BadHugePages;
            """),
        ("ALLOC1014", "HugificationThresholdZero", """
            using Allocator;
            [Arena, HugePages(Mode = HugePageMode.Lazy, {|ALLOC1014:HugificationThreshold = 0|})] public sealed partial class BadHugePages;
            """),
        ("ALLOC1014", "HugificationThresholdAboveOne", """
            using Allocator;
            [Arena, HugePages({|ALLOC1014:HugificationThreshold = 1.01|})] public sealed partial class BadHugePages;
            """),
        ("ALLOC1014", "DirtyMultNegativeNotMinusOne", """
            using Allocator;
            [Arena, HugePages(Mode = HugePageMode.Eager, {|ALLOC1014:DirtyMult = -0.5|})] public sealed partial class BadHugePages;
            """),
        ("ALLOC1014", "DirtyMultNaN", """
            using Allocator;
            [Arena, HugePages({|ALLOC1014:DirtyMult = double.NaN|})] public sealed partial class BadHugePages;
            """),
        ("ALLOC1014", "MinPurgeIntervalNegative", """
            using Allocator;
            [Arena, HugePages({|ALLOC1014:MinPurgeIntervalMs = -5|})] public sealed partial class BadHugePages;
            """),
        ("ALLOC1014", "HugifyDelayAboveTheClock", """
            using Allocator;
            [Arena, HugePages(Mode = HugePageMode.Off, {|ALLOC1014:HugifyDelayMs = long.MaxValue|})] public sealed partial class BadHugePages;
            """),
        ("ALLOC1008", "HooksNotImplemented", """
            using Allocator;
            public sealed class NotHooks { }
            [Arena, ExtentHooks({|ALLOC1008:typeof(NotHooks)|})] public sealed partial class BadHooks;
            """),
        ("ALLOC1009", "HooksWithoutPublicConstructor", """
            using Allocator;
            public sealed class PrivateHooks : Allocator.Hooks.IExtentHooks
            {
                private PrivateHooks() { }
            """ + HooksMembers + """

            }
            [Arena, ExtentHooks({|ALLOC1009:typeof(PrivateHooks)|})] public sealed partial class BadHooks;
            """),
        ("ALLOC1009", "HooksAbstract", """
            using Allocator;
            public abstract class AbstractHooks : Allocator.Hooks.IExtentHooks
            {
            """ + HooksMembers + """

            }
            [Arena, ExtentHooks({|ALLOC1009:typeof(AbstractHooks)|})] public sealed partial class BadHooks;
            """),
        ("ALLOC1011", "SizeClassesWithoutArena", """
            using Allocator;
            [{|ALLOC1011:SizeClasses(LgPage = 16)|}, {|ALLOC1011:ExtentHooks(typeof(object))|}]
            public sealed partial class Forgotten;
            """),
        ("ALLOC1011", "HugePagesWithoutArena", """
            using Allocator;
            [{|ALLOC1011:HugePages(Mode = HugePageMode.Eager)|}]
            public sealed partial class Forgotten;
            """),
    ];

    /// <summary>Removes analyzer markup, leaving plain C#.</summary>
    public static string StripMarkup(string source) => Markup().Replace(source, static m => m.Groups[1].Value);

    [GeneratedRegex(@"\{\|ALLOC\d+:(.*?)\|\}", RegexOptions.Singleline)]
    private static partial Regex Markup();
}
