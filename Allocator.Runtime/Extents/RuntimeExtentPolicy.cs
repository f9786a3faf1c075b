using System.ComponentModel;

namespace Allocator.Extents;

/// <summary>
/// The extent policy of shards configured at run time: every knob is read from the
/// <see cref="ExtentContext"/>, so this struct only says so.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Advanced)]
public readonly struct RuntimeExtentPolicy : IExtentPolicy
{
    /// <inheritdoc/>
    public static bool IsRuntimeConfigured => true;

    /// <inheritdoc/>
    public static bool Retain => true;

    /// <inheritdoc/>
    public static int LgExtentMaxActiveFit => 6;

    /// <inheritdoc/>
    public static int GuardSmallEvery => 0;

    /// <inheritdoc/>
    public static int GuardLargeEvery => 0;

    /// <inheritdoc/>
    public static bool UsesDefaultHooks => true;
}
