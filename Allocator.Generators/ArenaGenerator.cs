using System.Linq;
using System.Text;
using System.Threading;
using Allocator.Declarations;
using Allocator.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace Allocator.Generators;

/// <summary>
/// Emits, for each valid <c>[Arena]</c> partial class, a nested <c>Policy</c> struct of literal
/// constants and size-class tables, the typed facade over <c>Arena&lt;Policy&gt;</c> and, where the
/// compilation allows unsafe code, a nested <c>Native</c> class of C entry points. Invalid
/// declarations produce nothing; the analyzers report them.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class ArenaGenerator : IIncrementalGenerator
{
    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var specs = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                KnownTypeNames.ArenaAttribute,
                // Emitting "partial class X" for a non-partial X would hide the real error behind CS0260.
                predicate: static (node, _) => node is ClassDeclarationSyntax c && c.Modifiers.Any(SyntaxKind.PartialKeyword),
                transform: static (ctx, ct) => Parse(ctx, ct))
            .WithTrackingName(TrackingNames.Transform)
            .Where(static spec => spec is not null)
            .Select(static (spec, _) => spec!)
            .WithTrackingName(TrackingNames.Spec);

        // Only the pointer members of the facade and the Native class need unsafe code; a project
        // without it still gets the policy and the safe members. A bool is equatable, so unrelated
        // edits stay cached.
        var allowUnsafe = context.CompilationProvider
            .Select(static (c, _) => c.Options is CSharpCompilationOptions { AllowUnsafe: true })
            .WithTrackingName(TrackingNames.AllowUnsafe);

        var models = specs.Combine(allowUnsafe)
            .Select(static (pair, _) => pair.Left with { AllowUnsafe = pair.Right })
            .WithTrackingName(TrackingNames.Model);

        context.RegisterSourceOutput(models, static (spc, spec) =>
            spc.AddSource(spec.HintName, SourceText.From(PolicyEmitter.Emit(spec), Encoding.UTF8)));
    }

    private static ArenaSpec? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        // ForAttributeWithMetadataName hands over only symbols that carry the attribute.
        if (context.TargetSymbol is not INamedTypeSymbol type)
        {
            return null;
        }

        var declaration = ArenaDeclarationReader.Read(type, context.Attributes[0], problems: null, cancellationToken);
        if (!declaration.IsValid)
        {
            return null;
        }

        var containing = new System.Collections.Generic.List<ContainingTypeSpec>();
        for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            containing.Insert(0, new ContainingTypeSpec(Modifiers(outer), Keyword(outer), outer.Name));
        }

        var ns = type.ContainingNamespace.IsGlobalNamespace ? null : type.ContainingNamespace.ToDisplayString();
        // Metadata-style: '+' separates nested types, so even erroneous code with a namespace N.A
        // and a nested N+A cannot make AddSource throw on a repeated hint name.
        var typePath = string.Join("+", containing.Select(static c => c.Name).Concat(new[] { type.Name }));
        var fullName = ns is null ? typePath : ns + "." + typePath;
        return new ArenaSpec(
            fullName + ".g.cs",
            ns,
            new EquatableArray<ContainingTypeSpec>(containing.ToArray()),
            type.Name,
            declaration.Settings,
            declaration.HooksTypeName);
    }

    // Repeated on the generated part so that it agrees with the user's declaration of the struct.
    private static string Modifiers(INamedTypeSymbol type) =>
        (type.TypeKind == TypeKind.Struct && type.IsReadOnly ? "readonly " : string.Empty) + (type.IsRefLikeType ? "ref " : string.Empty);

    private static string Keyword(INamedTypeSymbol type) => type switch
    {
        { IsRecord: true, TypeKind: TypeKind.Struct } => "record struct",
        { IsRecord: true } => "record",
        { TypeKind: TypeKind.Struct } => "struct",
        { TypeKind: TypeKind.Interface } => "interface",
        _ => "class",
    };
}
