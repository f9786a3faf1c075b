using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Threading;
using Allocator.Declarations;
using Allocator.Sizing;
using Microsoft.CodeAnalysis;

namespace Allocator.Analyzers.Misuse;

/// <summary>
/// The arena types of one compilation, and what the analyzer can know of an arena from its type:
/// whether two receivers must be different arenas, and which size classes an arena has.
/// </summary>
internal sealed class ArenaSymbols
{
    private readonly ConcurrentDictionary<ITypeSymbol, bool> _arenas = new(SymbolEqualityComparer.Default);
    private readonly ConcurrentDictionary<INamedTypeSymbol, ImmutableArray<SizeClasses>> _classes = new(SymbolEqualityComparer.Default);

    public ArenaSymbols(INamedTypeSymbol arena, INamedTypeSymbol? genericArena, INamedTypeSymbol? attribute)
    {
        Arena = arena;
        GenericArena = genericArena;
        Attribute = attribute;
    }

    public INamedTypeSymbol Arena { get; }

    public INamedTypeSymbol? GenericArena { get; }

    public INamedTypeSymbol? Attribute { get; }

    public bool IsArena(ITypeSymbol? type) => type is not null && _arenas.GetOrAdd(type, Compute);

    public bool IsFacade(ITypeSymbol type) => AttributeLookup.Find(type.GetAttributes(), Attribute) is not null;

    /// <summary>
    /// A key two receivers of different arenas cannot share: each sealed arena type is its own
    /// key, except that a facade and the Arena&lt;Policy&gt; it wraps share the policy type.
    /// </summary>
    public ITypeSymbol? DistinctKey(ITypeSymbol? type)
    {
        if (type is not INamedTypeSymbol { IsSealed: true } named) return null;
        if (IsFacade(named))
        {
            foreach (var member in named.GetTypeMembers("Policy")) return member;
            return named;
        }

        return GenericArena is not null && SymbolEqualityComparer.Default.Equals(named.OriginalDefinition, GenericArena) ? named.TypeArguments[0] : null;
    }

    /// <summary>
    /// The size classes an arena certainly has: those its [Arena] facade declares (also for
    /// Arena&lt;Facade.Policy&gt;), or the defaults of Arena.Create() for each page size it may
    /// meet. Empty when they depend on something the analyzer cannot see.
    /// </summary>
    public ImmutableArray<SizeClasses> SizeClassesOf(ArenaValue arena, ITypeSymbol? receiverType)
    {
        if (arena.IsDefaultRuntimeArena) return DefaultClasses;
        var facade = receiverType is not null && IsFacade(receiverType) ? receiverType
            : DistinctKey(receiverType) is { ContainingType: { } container } && IsFacade(container) ? container
            : null;
        return facade is INamedTypeSymbol named ? _classes.GetOrAdd(named, ReadClasses) : ImmutableArray<SizeClasses>.Empty;
    }

    private ImmutableArray<SizeClasses> ReadClasses(INamedTypeSymbol facade)
    {
        if (AttributeLookup.Find(facade.GetAttributes(), Attribute) is not { } data) return ImmutableArray<SizeClasses>.Empty;
        var read = ArenaDeclarationReader.Read(facade, data, null, CancellationToken.None);
        if (!read.IsValid) return ImmutableArray<SizeClasses>.Empty;
        var s = read.Settings;
        return Classes(s.LgQuantum, s.LgPage, s.LgGroup, s.LgTinyMin) is { } classes
            ? ImmutableArray.Create(classes)
            : ImmutableArray<SizeClasses>.Empty;
    }

    private static SizeClasses? Classes(int lgQuantum, int lgPage, int lgGroup, int lgTinyMin) =>
        SizeClasses.TryValidate(lgQuantum, lgPage, lgGroup, lgTinyMin, out _, out _)
            ? new SizeClasses(lgQuantum, lgPage, lgGroup, lgTinyMin)
            : null;

    // ArenaOptions' defaults, with the page size of the machine the program will run on.
    private static readonly ImmutableArray<SizeClasses> DefaultClasses = ImmutableArray.Create(
        new SizeClasses(ArenaDeclarationRules.DefaultLgQuantum, 12),
        new SizeClasses(ArenaDeclarationRules.DefaultLgQuantum, 14),
        new SizeClasses(ArenaDeclarationRules.DefaultLgQuantum, 16));

    private bool Compute(ITypeSymbol type)
    {
        for (var current = type; current is not null; current = current.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(current, Arena)) return true;
        }

        return IsFacade(type);
    }
}
