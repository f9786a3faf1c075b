
using Allocator.Hooks;

namespace Allocator;

/// <summary>
/// The policy of arenas configured at run time: every knob is read from the arena instance, so
/// this struct only says so. The JIT still compiles one copy of the core for it.
/// </summary>
public readonly struct RuntimeArenaPolicy : IArenaPolicy
{
    /// <inheritdoc/>
    public static bool IsRuntimeConfigured => true;

    /// <inheritdoc/>
    public static bool Retain => true;

    /// <inheritdoc/>
    public static long DirtyDecayMs => 10_000;

    /// <inheritdoc/>
    public static long MuzzyDecayMs => 0;

    /// <inheritdoc/>
    public static long OversizeThreshold => 8 << 20;

    /// <inheritdoc/>
    public static int LgExtentMaxActiveFit => 6;

    /// <inheritdoc/>
    public static int LgQuantum => 4;

    /// <inheritdoc/>
    public static int LgPage => 12;

    /// <inheritdoc/>
    public static int LgGroup => 2;

    /// <inheritdoc/>
    public static int LgTinyMin => 3;

    /// <inheritdoc/>
    public static int GuardSmallEvery => 0;

    /// <inheritdoc/>
    public static int GuardLargeEvery => 0;

    /// <inheritdoc/>
    public static double GuardMappingShare => ArenaDeclarationRules.DefaultGuardMappingShare;

    /// <inheritdoc/>
    public static bool ThreadCache => true;

    /// <inheritdoc/>
    public static bool DebugChecks => false;

    /// <inheritdoc/>
    public static System.ReadOnlySpan<byte> SizeToIndexLookup => default;

    /// <inheritdoc/>
    public static bool UsesDefaultHooks => true;

    /// <inheritdoc/>
    public static System.ReadOnlySpan<ulong> ClassSizes => default;

    /// <inheritdoc/>
    public static System.ReadOnlySpan<ulong> BinRegionSizes => default;

    /// <inheritdoc/>
    public static System.ReadOnlySpan<uint> BinDivMagic => default;

    /// <inheritdoc/>
    public static IExtentHooks? CreateHooks() => null;
}
