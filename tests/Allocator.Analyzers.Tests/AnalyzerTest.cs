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
/// set from a package (no download at test time, toolchain.md §6) and Allocator.Runtime.
/// </summary>
internal static class AnalyzerTest
{
    public static Task VerifyAsync(string source)
    {
        var test = new CSharpAnalyzerTest<ArenaDeclarationAnalyzer, DefaultVerifier>
        {
            TestCode = source,
            ReferenceAssemblies = new ReferenceAssemblies("net10.0"),
        };
        test.TestState.AdditionalReferences.AddRange(TestCompilation.References);
        // The hooks fixtures implement IExtentHooks, whose members take pointers.
        test.SolutionTransforms.Add(static (solution, projectId) =>
            solution.WithProjectCompilationOptions(
                projectId,
                ((CSharpCompilationOptions)solution.GetProject(projectId)!.CompilationOptions!).WithAllowUnsafe(true)));
        return test.RunAsync();
    }
}
