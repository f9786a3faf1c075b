using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace Allocator.Analyzers.Misuse;

/// <summary>The runtime's extent markers in one compilation: [AcquiredExtent], [AddressLookup], Edata.</summary>
internal sealed class ExtentSymbols
{
    private readonly ConcurrentDictionary<IMethodSymbol, bool> _lookups = new(SymbolEqualityComparer.Default);
    private readonly ConcurrentDictionary<IParameterSymbol, bool> _acquired = new(SymbolEqualityComparer.Default);

    public ExtentSymbols(INamedTypeSymbol acquired, INamedTypeSymbol lookup, INamedTypeSymbol edata, INamedTypeSymbol? unsafeType)
    {
        Acquired = acquired;
        Lookup = lookup;
        Edata = edata;
        Unsafe = unsafeType;
    }

    public INamedTypeSymbol Acquired { get; }

    public INamedTypeSymbol Lookup { get; }

    public INamedTypeSymbol Edata { get; }

    public INamedTypeSymbol? Unsafe { get; }

    public bool IsAcquired(IParameterSymbol parameter) =>
        _acquired.GetOrAdd(parameter, p => HasAttribute(p.GetAttributes(), Acquired)
            || (!SymbolEqualityComparer.Default.Equals(p.OriginalDefinition, p) && HasAttribute(p.OriginalDefinition.GetAttributes(), Acquired)));

    public bool IsLookup(IMethodSymbol method) =>
        _lookups.GetOrAdd(method, m => HasAttribute(m.OriginalDefinition.GetAttributes(), Lookup));

    public bool IsEdataPointer(ITypeSymbol? type) =>
        type is IPointerTypeSymbol pointer && SymbolEqualityComparer.Default.Equals(pointer.PointedAtType, Edata);

    private static bool HasAttribute(ImmutableArray<AttributeData> attributes, INamedTypeSymbol attribute) =>
        AttributeLookup.Find(attributes, attribute) is not null;
}
