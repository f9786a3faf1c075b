namespace Allocator.Generators;

/// <summary>Names of the tracked pipeline steps, for the incremental-caching tests.</summary>
public static class TrackingNames
{
    /// <summary>The per-declaration model (<c>ArenaSpec</c>, or null for an invalid declaration).</summary>
    public const string Transform = "ArenaTransform";

    /// <summary>The valid declarations only.</summary>
    public const string Spec = "ArenaSpec";
}
