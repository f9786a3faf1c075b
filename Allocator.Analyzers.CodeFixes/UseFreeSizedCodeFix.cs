using System.Collections.Immutable;
using System.Composition;
using System.Threading;
using System.Threading.Tasks;
using Allocator.Analyzers.Misuse;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Allocator.Analyzers.CodeFixes;

/// <summary>ALLOC3001: rewrites <c>arena.Free(p)</c> into <c>arena.FreeSized(p, size)</c> with the size the block was allocated with.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UseFreeSizedCodeFix))]
[Shared]
public sealed class UseFreeSizedCodeFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.FreeWithKnownSize);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (var diagnostic in context.Diagnostics)
        {
            if (!diagnostic.Properties.TryGetValue(ArenaMisuseAnalyzer.SizeProperty, out var size) || size is null
                || root?.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not InvocationExpressionSyntax call
                || call.Expression is not MemberAccessExpressionSyntax { Name.Identifier.ValueText: "Free" }
                || call.ArgumentList.Arguments.Count != 1)
            {
                continue;
            }

            context.RegisterCodeFix(
                CodeAction.Create(
                    $"Use FreeSized with size '{size}'",
                    ct => RewriteAsync(context.Document, call, size, ct),
                    equivalenceKey: nameof(UseFreeSizedCodeFix)),
                diagnostic);
        }
    }

    private static async Task<Document> RewriteAsync(Document document, InvocationExpressionSyntax call, string size, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null) return document;
        var access = (MemberAccessExpressionSyntax)call.Expression;
        var name = access.Name.Identifier;
        var renamed = access.WithName(SyntaxFactory.IdentifierName(SyntaxFactory.Identifier(name.LeadingTrivia, "FreeSized", name.TrailingTrivia)));
        var sizeArgument = SyntaxFactory.Argument(SyntaxFactory.ParseExpression(size));
        var arguments = SyntaxFactory.SeparatedList(
            new[] { call.ArgumentList.Arguments[0], sizeArgument },
            new[] { SyntaxFactory.Token(SyntaxKind.CommaToken).WithTrailingTrivia(SyntaxFactory.Space) });
        var updated = call.WithExpression(renamed).WithArgumentList(call.ArgumentList.WithArguments(arguments));
        return document.WithSyntaxRoot(root.ReplaceNode(call, updated));
    }
}
