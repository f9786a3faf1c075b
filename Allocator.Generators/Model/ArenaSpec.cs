namespace Allocator.Generators.Model;

/// <summary>
/// Everything the emitter needs for one [Arena] declaration, and nothing that would keep a
/// compilation alive or break equality between runs (no symbols, syntax or locations).
/// </summary>
/// <param name="HintName">The generated file's name, from the full type name.</param>
/// <param name="Namespace">The declaring namespace, or null for the global namespace.</param>
/// <param name="ContainingTypes">Outermost first, to re-open the nesting as partial types.</param>
/// <param name="TypeName">The declared class's name.</param>
/// <param name="Settings">Every knob, defaults filled in.</param>
/// <param name="HooksTypeName">The fully qualified (global::) hooks type, or null for the OS hooks.</param>
/// <param name="AllowUnsafe">
/// Whether the compilation allows unsafe code (the pointer members and the <c>Native</c> class need
/// it); taken from the compilation options, so it is false until the pipeline combines them in.
/// </param>
internal sealed record ArenaSpec(
    string HintName,
    string? Namespace,
    EquatableArray<ContainingTypeSpec> ContainingTypes,
    string TypeName,
    ArenaSettings Settings,
    string? HooksTypeName,
    bool AllowUnsafe = false);

/// <summary>
/// One enclosing type: the modifiers every partial part must repeat ("readonly ref " or empty),
/// its declaration keyword ("class", "record struct", ...) and its name.
/// </summary>
internal sealed record ContainingTypeSpec(string Modifiers, string Keyword, string Name);
