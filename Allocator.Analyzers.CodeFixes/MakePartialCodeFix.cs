using System.Collections.Immutable;
using System.Composition;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Allocator.Analyzers.CodeFixes;

/// <summary>ALLOC1001: adds the missing <c>partial</c> modifier to the arena type or its containing type.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MakePartialCodeFix))]
[Shared]
public sealed class MakePartialCodeFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.ArenaTypeNotPartial);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (var diagnostic in context.Diagnostics)
        {
            // The diagnostic underlines the type's identifier.
            if (root?.FindToken(diagnostic.Location.SourceSpan.Start).Parent is not TypeDeclarationSyntax declaration)
            {
                continue;
            }

            context.RegisterCodeFix(
                CodeAction.Create(
                    $"Make '{declaration.Identifier.ValueText}' partial",
                    ct => AddPartialAsync(context.Document, declaration, ct),
                    equivalenceKey: nameof(MakePartialCodeFix)),
                diagnostic);
        }
    }

    private static async Task<Document> AddPartialAsync(Document document, TypeDeclarationSyntax declaration, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return document;
        }

        // 'partial' must come last, right before the type keyword.
        var partialKeyword = SyntaxFactory.Token(SyntaxKind.PartialKeyword).WithTrailingTrivia(SyntaxFactory.Space);
        TypeDeclarationSyntax updated;
        if (declaration.Modifiers.Count == 0)
        {
            // Keep the keyword's leading trivia (indentation, comments) in front of the new first token.
            var keyword = declaration.Keyword;
            updated = declaration
                .WithKeyword(keyword.WithLeadingTrivia(SyntaxTriviaList.Empty))
                .WithModifiers(SyntaxFactory.TokenList(partialKeyword.WithLeadingTrivia(keyword.LeadingTrivia)));
        }
        else
        {
            updated = declaration.WithModifiers(declaration.Modifiers.Add(partialKeyword));
        }

        return document.WithSyntaxRoot(root.ReplaceNode(declaration, updated));
    }
}
