using System.Collections.Generic;

namespace Allocator.Tests.Infrastructure;

/// <summary>
/// Valid declarations: the generator tests snapshot, compile and run them; the analyzer tests
/// check that none of them is reported.
/// </summary>
public static class ValidDeclarations
{
    public const string Defaults = """
        using Allocator;

        namespace Demo;

        /// <summary>An arena with jemalloc's defaults.</summary>
        [Arena]
        public sealed partial class RequestArena;
        """;

    public const string Profiled = """
        using Allocator;

        namespace Demo;

        /// <summary>An arena that profiles its heap at jemalloc's default interval.</summary>
        [Arena(ProfileSampleBytes = 1 << 19)]
        public sealed partial class ProfiledArena;
        """;

    public const string LeakReport = """
        using Allocator;

        namespace Demo;

        /// <summary>An arena for tests: Dispose reports every block still allocated, by site.</summary>
        [Arena(LeakReport = true)]
        public sealed partial class LeakCheckedArena;
        """;

    public const string HugePagesTuned = """
        using Allocator;

        namespace Demo;

        /// <summary>jemalloc's lazy hugepage policy with every knob away from its default.</summary>
        [Arena]
        [HugePages(Mode = HugePageMode.Lazy, HugifyDelayMs = 2_500, HugificationThreshold = 0.9, DirtyMult = -1, MinPurgeIntervalMs = 0)]
        public sealed partial class HugeArena;
        """;

    public const string HugePagesEager = """
        using Allocator;

        namespace Demo;

        /// <summary>Pageslabs huge from their first touch.</summary>
        [Arena, HugePages(Mode = HugePageMode.Eager)]
        public sealed partial class EagerArena;
        """;

    public const string EveryKnobChanged = """
        using Allocator;

        namespace Demo;

        /// <summary>An arena with every knob away from its default.</summary>
        [Arena(Retain = false, DirtyDecayMs = -1, MuzzyDecayMs = 2_500, OversizeThreshold = 64L << 20,
               LgExtentMaxActiveFit = 3, ThreadCache = false, DebugChecks = true)]
        [SizeClasses(LgQuantum = 3, LgPage = 16, LgGroup = 1, LgTinyMin = 3)]
        [Guards(SmallEvery = 8, LargeEvery = 2, MappingShare = 0.125)]
        public sealed partial class TunedArena;
        """;

    public const string GuardsOn = """
        using Allocator;

        namespace Demo;

        /// <summary>Guards every slab and every 64th large extent.</summary>
        [Arena(Retain = true, DirtyDecayMs = 10_000, MuzzyDecayMs = 0)]
        [SizeClasses(LgQuantum = 4, LgPage = 12)]
        [Guards(SmallEvery = 1, LargeEvery = 64)]
        public sealed partial class GuardedArena;
        """;

    public const string GuardsOff = """
        using Allocator;

        namespace Demo;

        /// <summary>Guards off, said explicitly.</summary>
        [Arena]
        [Guards(SmallEvery = 0, LargeEvery = 0)]
        public sealed partial class UnguardedArena;
        """;

    public const string CustomHooks = """
        using Allocator;

        namespace Demo;

        internal sealed class HugePageHooks : Allocator.Hooks.IExtentHooks
        {
        """ + Fixtures.HooksMembers + """

        }

        /// <summary>Backed by custom hooks.</summary>
        [Arena]
        [ExtentHooks(typeof(HugePageHooks))]
        public sealed partial class HookedArena;
        """;

    public const string Nested = """
        using Allocator;

        namespace Demo.Nested
        {
            internal static partial class Outer
            {
                internal readonly partial record struct Middle
                {
                    [Arena(DirtyDecayMs = 0)]
                    internal sealed partial class InnerArena;
                }
            }
        }
        """;

    public const string NestedInRefStruct = """
        using Allocator;

        namespace Demo;

        internal readonly ref partial struct Span
        {
            [Arena]
            internal sealed partial class SpanArena;
        }
        """;

    public const string GlobalNamespace = """
        using Allocator;

        [Arena(MuzzyDecayMs = -1)]
        internal sealed partial class GlobalArena;
        """;

    public const string Unrelated = """
        namespace Demo;

        internal static class Unrelated
        {
            public static int Answer() => 42;
        }
        """;

    /// <summary>Every valid declaration above, by name (not <see cref="Unrelated"/>).</summary>
    public static IReadOnlyDictionary<string, string> All { get; } = new Dictionary<string, string>
    {
        [nameof(Defaults)] = Defaults,
        [nameof(EveryKnobChanged)] = EveryKnobChanged,
        [nameof(GuardsOn)] = GuardsOn,
        [nameof(GuardsOff)] = GuardsOff,
        [nameof(CustomHooks)] = CustomHooks,
        [nameof(Nested)] = Nested,
        [nameof(NestedInRefStruct)] = NestedInRefStruct,
        [nameof(GlobalNamespace)] = GlobalNamespace,
        [nameof(Profiled)] = Profiled,
        [nameof(LeakReport)] = LeakReport,
        [nameof(HugePagesTuned)] = HugePagesTuned,
        [nameof(HugePagesEager)] = HugePagesEager,
    };
}
