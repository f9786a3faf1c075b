namespace Allocator.Analyzers.Misuse;

/// <summary>
/// One abstract value in <see cref="ExtentDisciplineWalker"/>'s flow. Identity is reference
/// identity: two variables that hold the same <see cref="ExtentValue"/> are aliases.
/// </summary>
internal sealed class ExtentValue
{
    /// <summary>The value was built from an address (a cast, Unsafe, an address lookup); the text says how.</summary>
    public string? AddressOrigin { get; init; }

    /// <summary>An <c>RtreeContents</c> written by an [AddressLookup] method; names that method.</summary>
    public string? LookupMethod { get; init; }

    /// <summary>An <c>Edata*</c> the flow received as one (not rebuilt from an address).</summary>
    public bool IsExtentHandle { get; init; }
}
