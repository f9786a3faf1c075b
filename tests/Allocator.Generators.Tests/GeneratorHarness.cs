extern alias generator;

using System.Linq;
using System.Reflection;
using Allocator.Tests.Infrastructure;
using generator::Allocator.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Allocator.Generators.Tests;

/// <summary>Runs <see cref="ArenaGenerator"/> over sources, tracking incremental steps.</summary>
internal static class GeneratorHarness
{
    public static string SnapshotDirectory { get; } =
        typeof(GeneratorHarness).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(static a => a.Key == "SnapshotDirectory").Value!;

    public static GeneratorDriver CreateDriver() =>
        CSharpGeneratorDriver.Create(
            [new ArenaGenerator().AsSourceGenerator()],
            parseOptions: TestCompilation.ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator; returns the run result and the compilation including its output.</summary>
    public static (GeneratorRunResult Result, Compilation Output) Run(params string[] sources)
    {
        var driver = CreateDriver().RunGeneratorsAndUpdateCompilation(
            TestCompilation.Create(sources), out var output, out _);
        return (driver.GetRunResult().Results.Single(), output);
    }
}
