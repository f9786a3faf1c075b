using System.Linq;
using Allocator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.FlowAnalysis;

namespace Allocator.Analyzers.Tests.Flow;

/// <summary>The control-flow graph of one method body written as a test's snippet.</summary>
internal static class Snippet
{
    /// <summary>
    /// Compiles <paramref name="body"/> as the body of <c>M(bool c, bool d)</c> next to the toy
    /// rules' marker methods, and returns the graph of <c>M</c>. The snippet must compile without errors (warnings are fine: toy code leaves values unused).
    /// </summary>
    public static ControlFlowGraph Graph(string body)
    {
        var source = $$"""
            public static class Code
            {
                public static void M(bool c, bool d)
                {
            {{body}}
                }

                public static void Probe(params int[] values) { }
                public static void Same(object? a, object? b) { }
                public static void Make(out object made) => made = new object();
            }
            """;
        var compilation = CSharpCompilation.Create(
            "Snippet",
            new[] { CSharpSyntaxTree.ParseText(source, TestCompilation.ParseOptions) },
            TestCompilation.References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        var errors = compilation.GetDiagnostics().Where(static d => d.Severity == DiagnosticSeverity.Error).ToArray();
        Assert.True(errors.Length == 0, TestCompilation.Describe(errors));
        var tree = compilation.SyntaxTrees.Single();
        var model = compilation.GetSemanticModel(tree);
        var method = tree.GetRoot().DescendantNodes().OfType<MethodDeclarationSyntax>().First(static m => m.Identifier.Text == "M");
        return ControlFlowGraph.Create(method, model) ?? throw new System.InvalidOperationException("No graph for M.");
    }
}
