using System.Collections.Generic;
using Allocator.Sizing;

namespace Allocator;

/// <summary>Which rule an arena declaration breaks; the analyzers map each to a diagnostic.</summary>
internal enum ArenaRule
{
    DecayOutOfRange,
    GuardEveryNegative,
    GuardMappingShareOutOfRange,
    OversizeThresholdBelowPage,
    ExtentMaxActiveFitOutOfRange,
    SizeClassParameters,
    ProfileSampleBytesOutOfRange,
    HugePageSettingOutOfRange,
    LeakReportWithSampleInterval,
}

/// <summary>One broken rule: the attribute property at fault and what to do about it.</summary>
internal readonly struct ArenaRuleViolation
{
    public ArenaRuleViolation(ArenaRule rule, string attributeName, string propertyName, string message)
    {
        Rule = rule;
        AttributeName = attributeName;
        PropertyName = propertyName;
        Message = message;
    }

    public ArenaRule Rule { get; }

    /// <summary>The attribute's short name ("Arena", "SizeClasses", "Guards", "HugePages").</summary>
    public string AttributeName { get; }

    public string PropertyName { get; }

    public string Message { get; }
}

/// <summary>
/// Defaults and value rules of arena declarations, in one plain-C# file compiled into the runtime,
/// the source generator and the analyzers, so the three agree on what a valid policy is.
/// </summary>
internal static class ArenaDeclarationRules
{
    // jemalloc 5.3 defaults on x86-64 Linux (opt_retain is on for 64-bit Linux).
    public const bool DefaultRetain = true;
    public const long DefaultDirtyDecayMs = 10_000;
    public const long DefaultMuzzyDecayMs = 0;
    public const long DefaultOversizeThreshold = 8L << 20;
    public const int DefaultLgExtentMaxActiveFit = 6;
    public const bool DefaultThreadCache = true;
    public const bool DefaultDebugChecks = false;
    public const int DefaultLgQuantum = 4;
    public const int DefaultLgPage = 12;
    public const int DefaultLgGroup = 2;
    public const int DefaultLgTinyMin = 3;
    public const int DefaultGuardEvery = 0;
    public const long DefaultProfileSampleBytes = 0;
    public const bool DefaultLeakReport = false;

    // jemalloc's hpa_* defaults; [HugePages] without a mode means jemalloc's (lazy) policy.
    public const HugePageMode DefaultHugePagesDeclared = HugePageMode.Lazy;
    public const long DefaultHugifyDelayMs = 10_000;
    public const double DefaultHugificationThreshold = 0.95;
    public const double DefaultHugePageDirtyMult = 0.25;
    public const long DefaultHugePageMinPurgeIntervalMs = 5_000;

    /// <summary>The longest mean interval between heap-profile samples, 1 TiB.</summary>
    public const long MaxProfileSampleBytes = 1L << 40;

    /// <summary>What a valid <c>ProfileSampleBytes</c> is, for messages.</summary>
    public const string ProfileSampleBytesRule = "use 0 (no profiling), 1 (sample every block) or a mean interval in bytes up to 2^40 (524288, jemalloc's default, is cheap enough to leave on)";

    /// <summary>A quarter of vm.max_map_count: room for the .NET runtime, the libraries and the application's own mappings.</summary>
    public const double DefaultGuardMappingShare = 0.25;

    /// <summary>
    /// The longest decay time, about 292 years: the decay clock counts nanoseconds in a long. The
    /// runtime's <c>DecayTracker.MaxDecayMs</c> is this constant, so a declaration that passes here builds.
    /// </summary>
    public const long MaxDecayMs = long.MaxValue / 1_000_000;

    /// <summary>64 means "no cap" (jemalloc clamps it to 63 when fitting).</summary>
    public const int MaxLgExtentMaxActiveFit = 64;

    public const string ArenaAttributeName = "Arena";
    public const string SizeClassesAttributeName = "SizeClasses";
    public const string GuardsAttributeName = "Guards";
    public const string HugePagesAttributeName = "HugePages";

    /// <summary>Checks every value rule; returns true when <paramref name="settings"/> is valid.</summary>
    /// <param name="settings">The declaration.</param>
    /// <param name="violations">Receives each broken rule, when not null.</param>
    public static bool Validate(ArenaSettings settings, List<ArenaRuleViolation>? violations)
    {
        var valid = true;

        void Add(ArenaRule rule, string attribute, string property, string message)
        {
            valid = false;
            violations?.Add(new ArenaRuleViolation(rule, attribute, property, message));
        }

        // The size-class rules are the runtime table builder's own, so a declaration that passes
        // here always builds.
        if (!SizeClasses.TryValidate(settings.LgQuantum, settings.LgPage, settings.LgGroup, settings.LgTinyMin, out var parameter, out var error))
        {
            Add(ArenaRule.SizeClassParameters, SizeClassesAttributeName, PropertyName(parameter), error ?? "invalid size classes");
        }

        CheckDecay(settings.DirtyDecayMs, nameof(ArenaSettings.DirtyDecayMs), Add);
        CheckDecay(settings.MuzzyDecayMs, nameof(ArenaSettings.MuzzyDecayMs), Add);

        if (settings.LgExtentMaxActiveFit < 0 || settings.LgExtentMaxActiveFit > MaxLgExtentMaxActiveFit)
        {
            Add(ArenaRule.ExtentMaxActiveFitOutOfRange, ArenaAttributeName, nameof(ArenaSettings.LgExtentMaxActiveFit),
                $"LgExtentMaxActiveFit is {settings.LgExtentMaxActiveFit}; use 0 to {MaxLgExtentMaxActiveFit} (6 = never split an extent more than 64 times the request)");
        }

        CheckGuard(settings.GuardSmallEvery, "SmallEvery", Add);
        CheckGuard(settings.GuardLargeEvery, "LargeEvery", Add);
        if (!IsValidGuardMappingShare(settings.GuardMappingShare))
        {
            Add(ArenaRule.GuardMappingShareOutOfRange, GuardsAttributeName, "MappingShare",
                $"MappingShare is {settings.GuardMappingShare.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}; use a fraction of vm.max_map_count above 0 and at most 1 (default 0.25)");
        }

        if (!IsValidProfileSampleBytes(settings.ProfileSampleBytes))
        {
            Add(ArenaRule.ProfileSampleBytesOutOfRange, ArenaAttributeName, nameof(ArenaSettings.ProfileSampleBytes),
                $"ProfileSampleBytes is {settings.ProfileSampleBytes}; {ProfileSampleBytesRule}");
        }
        else if (settings.LeakReport && settings.ProfileSampleBytes > 1)
        {
            Add(ArenaRule.LeakReportWithSampleInterval, ArenaAttributeName, nameof(ArenaSettings.ProfileSampleBytes),
                $"ProfileSampleBytes is {settings.ProfileSampleBytes}, but LeakReport samples every block; remove ProfileSampleBytes (or set it to 1), or drop LeakReport to sample at that interval");
        }

        CheckHugePages(settings, Add);

        // The page size is only meaningful when LgPage is sane; a bad LgPage is reported above.
        if (settings.LgPage is >= SizeClasses.MinLgPage and <= SizeClasses.MaxLgPage && settings.OversizeThreshold < 1L << settings.LgPage)
        {
            Add(ArenaRule.OversizeThresholdBelowPage, ArenaAttributeName, nameof(ArenaSettings.OversizeThreshold),
                $"OversizeThreshold is {settings.OversizeThreshold} bytes, below one page ({1L << settings.LgPage} bytes); use at least a page (default 8 MiB)");
        }

        return valid;
    }

    /// <summary>Whether <paramref name="mode"/> is one of <see cref="HugePageMode"/>'s values.</summary>
    public static bool IsValidHugePageMode(HugePageMode mode) => mode is HugePageMode.Off or HugePageMode.Lazy or HugePageMode.Eager;

    /// <summary>Whether a hugify delay or minimum purge interval is valid: 0 to <see cref="MaxDecayMs"/> ms.</summary>
    public static bool IsValidHugePageMs(long ms) => ms >= 0 && ms <= MaxDecayMs;

    /// <summary>Whether a hugification threshold is in (0, 1] (NaN is not).</summary>
    public static bool IsValidHugificationThreshold(double ratio) => ratio > 0 && ratio <= 1;

    /// <summary>Whether a dirty multiplier is -1 (no limit) or finite and 0 or more.</summary>
    public static bool IsValidHugePageDirtyMult(double mult) => mult == -1 || (mult >= 0 && !double.IsInfinity(mult));

    /// <summary>Whether a guard mapping share is in (0, 1] (NaN is not).</summary>
    public static bool IsValidGuardMappingShare(double share) => share > 0 && share <= 1;

    /// <summary>Whether <paramref name="value"/> is a valid heap-profile interval (0 off, else 1 to <see cref="MaxProfileSampleBytes"/>).</summary>
    public static bool IsValidProfileSampleBytes(long value) => value >= 0 && value <= MaxProfileSampleBytes;

    /// <summary>The attribute property for a <see cref="SizeClasses.TryValidate"/> parameter name ("lgPage" -> "LgPage").</summary>
    private static string PropertyName(string? parameter) =>
        string.IsNullOrEmpty(parameter) ? nameof(ArenaSettings.LgQuantum) : char.ToUpperInvariant(parameter![0]) + parameter.Substring(1);

    private static void CheckDecay(long value, string property, System.Action<ArenaRule, string, string, string> add)
    {
        if (value < -1 || value > MaxDecayMs)
        {
            add(ArenaRule.DecayOutOfRange, ArenaAttributeName, property,
                $"{property} is {value}; use -1 (never decay), 0 (purge at once) or a time up to {MaxDecayMs} ms");
        }
    }

    private static void CheckHugePages(ArenaSettings s, System.Action<ArenaRule, string, string, string> add)
    {
        const ArenaRule Rule = ArenaRule.HugePageSettingOutOfRange;
        const string Attribute = HugePagesAttributeName;
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        if (!IsValidHugePageMode(s.HugePages))
            add(Rule, Attribute, "Mode", $"Mode is {(int)s.HugePages}; use HugePageMode.Off, Lazy or Eager");
        if (!IsValidHugePageMs(s.HugifyDelayMs))
            add(Rule, Attribute, "HugifyDelayMs", $"HugifyDelayMs is {s.HugifyDelayMs}; use 0 (hugify at once) or a delay up to {MaxDecayMs} ms (default 10000)");
        if (!IsValidHugificationThreshold(s.HugificationThreshold))
            add(Rule, Attribute, "HugificationThreshold", $"HugificationThreshold is {s.HugificationThreshold.ToString("R", invariant)}; use the share of a pageslab in use, above 0 and at most 1 (default 0.95)");
        if (!IsValidHugePageDirtyMult(s.HugePageDirtyMult))
            add(Rule, Attribute, "DirtyMult", $"DirtyMult is {s.HugePageDirtyMult.ToString("R", invariant)}; use dirty pages per active page, 0 or more (default 0.25), or -1 for no limit");
        if (!IsValidHugePageMs(s.HugePageMinPurgeIntervalMs))
            add(Rule, Attribute, "MinPurgeIntervalMs", $"MinPurgeIntervalMs is {s.HugePageMinPurgeIntervalMs}; use 0 (purge whenever over the limit) or an interval up to {MaxDecayMs} ms (default 5000)");
    }

    private static void CheckGuard(int value, string property, System.Action<ArenaRule, string, string, string> add)
    {
        if (value < 0)
        {
            add(ArenaRule.GuardEveryNegative, GuardsAttributeName, property,
                $"{property} is {value}; use 0 (no guards), 1 (guard every extent) or N (guard every N-th extent)");
        }
    }
}
