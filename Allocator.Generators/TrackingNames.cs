namespace Allocator.Generators;

/// <summary>Names of the tracked pipeline steps, for the incremental-caching tests.</summary>
public static class TrackingNames
{
    /// <summary>The per-declaration model (<c>ArenaSpec</c>, or null for an invalid declaration).</summary>
    public const string Transform = "ArenaTransform";

    /// <summary>The valid declarations only.</summary>
    public const string Spec = "ArenaSpec";

    /// <summary>Whether the compilation allows unsafe code (the facade's pointer members need it).</summary>
    public const string AllowUnsafe = nameof(AllowUnsafe);

    /// <summary>The valid declarations with the unsafe flag folded in: what the emitter reads.</summary>
    public const string Model = "ArenaModel";
}
