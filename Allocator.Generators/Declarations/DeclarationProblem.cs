using Microsoft.CodeAnalysis;

namespace Allocator.Declarations;

/// <summary>What is wrong with an [Arena] declaration, beyond the value rules.</summary>
internal enum DeclarationProblemKind
{
    /// <summary>The declared type is not partial.</summary>
    NotPartial,

    /// <summary>A type containing the declared one is not partial.</summary>
    ContainingTypeNotPartial,

    /// <summary>The declared type is static, generic (or nested in a generic type) or abstract.</summary>
    InvalidTypeShape,

    /// <summary>The [ExtentHooks] type does not implement IExtentHooks.</summary>
    HooksNotExtentHooks,

    /// <summary>The [ExtentHooks] type cannot be created with a public parameterless constructor.</summary>
    HooksNotConstructible,

    /// <summary>A value rule of <see cref="ArenaDeclarationRules"/>; see <see cref="DeclarationProblem.Violation"/>.</summary>
    Rule,
}

/// <summary>
/// One problem with a declaration, located for the analyzer. Transient: it never enters the
/// generator's incremental model (it holds a <see cref="Location"/>).
/// </summary>
internal sealed class DeclarationProblem
{
    public DeclarationProblem(DeclarationProblemKind kind, Location? location, string subject, string detail, ArenaRuleViolation? violation = null)
    {
        Kind = kind;
        Location = location;
        Subject = subject;
        Detail = detail;
        Violation = violation;
    }

    public DeclarationProblemKind Kind { get; }

    public Location? Location { get; }

    /// <summary>The type (or hooks type) the problem is about, as shown to the user.</summary>
    public string Subject { get; }

    /// <summary>The specific fault ("static", a rule's message...).</summary>
    public string Detail { get; }

    public ArenaRuleViolation? Violation { get; }
}
