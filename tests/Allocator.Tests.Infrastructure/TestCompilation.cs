using System.Collections.Generic;
using System.Linq;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Allocator.Tests.Infrastructure;

/// <summary>
/// Compilations against the .NET 10 reference assemblies (from a package, so nothing is
/// downloaded at test time) plus Allocator.Runtime, the way a user's project sees them.
/// </summary>
public static class TestCompilation
{
    /// <summary>Parse options that also report missing XML docs, so generated code must document itself.</summary>
    public static CSharpParseOptions ParseOptions { get; } =
        new(LanguageVersion.Latest, DocumentationMode.Diagnose);

    /// <summary>The .NET 10 reference set plus Allocator.Runtime.</summary>
    public static IReadOnlyList<MetadataReference> References { get; } =
        Net100.References.All
            .Append(MetadataReference.CreateFromFile(typeof(ArenaAttribute).Assembly.Location))
            .ToArray();

    /// <summary>A library compilation of <paramref name="sources"/>, unsafe and nullable enabled, warnings as errors.</summary>
    public static CSharpCompilation Create(params string[] sources) =>
        CSharpCompilation.Create(
            "UserAssembly",
            sources.Select((text, i) => CSharpSyntaxTree.ParseText(text, ParseOptions, path: $"Source{i}.cs")),
            References,
            new CSharpCompilationOptions(
                OutputKind.DynamicallyLinkedLibrary,
                allowUnsafe: true,
                nullableContextOptions: NullableContextOptions.Enable,
                generalDiagnosticOption: ReportDiagnostic.Error,
                deterministic: true));

    /// <summary>Diagnostics of a compilation, as one line each, for failure messages.</summary>
    public static string Describe(IEnumerable<Diagnostic> diagnostics) =>
        string.Join("\n", diagnostics.Select(static d => d.ToString()));
}
