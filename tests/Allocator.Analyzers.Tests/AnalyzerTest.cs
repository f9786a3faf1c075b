using System.Threading.Tasks;
using Allocator.Analyzers.Declarations;
using Allocator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace Allocator.Analyzers.Tests;

/// <summary>
/// Runs <see cref="ArenaDeclarationAnalyzer"/> on marked-up source against the .NET 10 reference
/// set from a package (so nothing is downloaded at test time) and Allocator.Runtime.
/// </summary>
internal static class AnalyzerTest
{
    public static Task VerifyAsync(string source) =>
        Configure(new CSharpAnalyzerTest<ArenaDeclarationAnalyzer, DefaultVerifier> { TestCode = source }).RunAsync();

    /// <summary>Runs <typeparamref name="TAnalyzer"/> on marked-up <paramref name="source"/>.</summary>
    public static Task VerifyAsync<TAnalyzer>(string source)
        where TAnalyzer : Microsoft.CodeAnalysis.Diagnostics.DiagnosticAnalyzer, new() =>
        Configure(new CSharpAnalyzerTest<TAnalyzer, DefaultVerifier> { TestCode = source }).RunAsync();

    /// <summary>Checks that <typeparamref name="TFix"/> turns the diagnostics of <typeparamref name="TAnalyzer"/> into <paramref name="fixedSource"/>.</summary>
    public static Task VerifyFixAsync<TAnalyzer, TFix>(string source, string fixedSource)
        where TAnalyzer : Microsoft.CodeAnalysis.Diagnostics.DiagnosticAnalyzer, new()
        where TFix : Microsoft.CodeAnalysis.CodeFixes.CodeFixProvider, new() =>
        Configure(new CSharpCodeFixTest<TAnalyzer, TFix, DefaultVerifier> { TestCode = source, FixedCode = fixedSource }).RunAsync();

    /// <summary>Checks that <typeparamref name="TFix"/> turns <paramref name="source"/> into <paramref name="fixedSource"/>.</summary>
    public static Task VerifyFixAsync<TFix>(string source, string fixedSource)
        where TFix : Microsoft.CodeAnalysis.CodeFixes.CodeFixProvider, new() =>
        Configure(new CSharpCodeFixTest<ArenaDeclarationAnalyzer, TFix, DefaultVerifier> { TestCode = source, FixedCode = fixedSource }).RunAsync();

    private static T Configure<T>(T test)
        where T : AnalyzerTest<DefaultVerifier>
    {
        test.ReferenceAssemblies = new ReferenceAssemblies("net10.0");
        test.TestState.AdditionalReferences.AddRange(TestCompilation.References);
        // The hooks fixtures implement IExtentHooks, whose members take pointers.
        test.SolutionTransforms.Add(static (solution, projectId) =>
            solution.WithProjectCompilationOptions(
                projectId,
                ((CSharpCompilationOptions)solution.GetProject(projectId)!.CompilationOptions!).WithAllowUnsafe(true)));
        return test;
    }
}
