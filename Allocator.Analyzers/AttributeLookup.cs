using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace Allocator.Analyzers;

/// <summary>Finding an attribute of a known type on a symbol, for every analyzer here.</summary>
internal static class AttributeLookup
{
    /// <summary>The first of <paramref name="attributes"/> whose class is <paramref name="attributeType"/>, or null.</summary>
    public static AttributeData? Find(ImmutableArray<AttributeData> attributes, INamedTypeSymbol? attributeType)
    {
        if (attributeType is null) return null;
        foreach (var data in attributes)
        {
            if (SymbolEqualityComparer.Default.Equals(data.AttributeClass, attributeType)) return data;
        }

        return null;
    }
}
