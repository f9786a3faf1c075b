extern alias generator;

using System.IO;
using System.Text;
using System.Threading.Tasks;
using Allocator.Tests.Infrastructure;
using generator::Allocator.Generators;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;
using Microsoft.CodeAnalysis.Text;

namespace Allocator.Generators.Tests;

/// <summary>
/// The Roslyn testing framework, run on the same declarations, expects exactly the snapshot
/// files: the small snapshot helper and the official harness agree on what is generated.
/// </summary>
public sealed class FrameworkAgreementTests
{
    [Theory]
    [InlineData(nameof(ValidDeclarations.GuardsOn), "Demo.GuardedArena.g.cs")]
    [InlineData(nameof(ValidDeclarations.CustomHooks), "Demo.HookedArena.g.cs")]
    [InlineData(nameof(ValidDeclarations.Nested), "Demo.Nested.Outer+Middle+InnerArena.g.cs")]
    public Task Official_harness_generates_the_snapshot(string name, string hintName)
    {
        var test = new CSharpSourceGeneratorTest<ArenaGenerator, DefaultVerifier>
        {
            TestCode = ValidDeclarations.All[name],
            ReferenceAssemblies = new ReferenceAssemblies("net10.0"),
        };
        test.TestState.AdditionalReferences.AddRange(TestCompilation.References);
        var snapshot = File.ReadAllText(Path.Combine(GeneratorHarness.SnapshotDirectory, $"{nameof(SnapshotTests)}.{name}.verified.cs"));
        test.TestState.GeneratedSources.Add((typeof(ArenaGenerator), hintName, SourceText.From(snapshot, Encoding.UTF8)));
        return test.RunAsync();
    }

    [Fact]
    public void A_malformed_argument_does_not_break_the_generator()
    {
        var (result, _) = GeneratorHarness.Run("""
            using Allocator;
            [Arena(DirtyDecayMs = "ten", Retain = 3)]
            [SizeClasses(LgPage = )]
            [ExtentHooks(typeof(Missing))]
            public sealed partial class Broken;
            """);

        Assert.Null(result.Exception);
        Assert.Empty(result.Diagnostics);
    }
}
