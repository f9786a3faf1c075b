using System.Linq;
using Allocator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace Allocator.Generators.Tests;

/// <summary>The emitted file for each kind of declaration, compared with its .verified.cs.</summary>
public sealed class SnapshotTests
{
    [Theory]
    [InlineData(nameof(ValidDeclarations.Defaults), ValidDeclarations.Defaults, "Demo.RequestArena.g.cs")]
    [InlineData(nameof(ValidDeclarations.EveryKnobChanged), ValidDeclarations.EveryKnobChanged, "Demo.TunedArena.g.cs")]
    [InlineData(nameof(ValidDeclarations.GuardsOn), ValidDeclarations.GuardsOn, "Demo.GuardedArena.g.cs")]
    [InlineData(nameof(ValidDeclarations.GuardsOff), ValidDeclarations.GuardsOff, "Demo.UnguardedArena.g.cs")]
    [InlineData(nameof(ValidDeclarations.CustomHooks), ValidDeclarations.CustomHooks, "Demo.HookedArena.g.cs")]
    [InlineData(nameof(ValidDeclarations.Nested), ValidDeclarations.Nested, "Demo.Nested.Outer+Middle+InnerArena.g.cs")]
    [InlineData(nameof(ValidDeclarations.NestedInRefStruct), ValidDeclarations.NestedInRefStruct, "Demo.Span+SpanArena.g.cs")]
    [InlineData(nameof(ValidDeclarations.GlobalNamespace), ValidDeclarations.GlobalNamespace, "GlobalArena.g.cs")]
    [InlineData(nameof(ValidDeclarations.Profiled), ValidDeclarations.Profiled, "Demo.ProfiledArena.g.cs")]
    [InlineData(nameof(ValidDeclarations.LeakReport), ValidDeclarations.LeakReport, "Demo.LeakCheckedArena.g.cs")]
    [InlineData(nameof(ValidDeclarations.HugePagesTuned), ValidDeclarations.HugePagesTuned, "Demo.HugeArena.g.cs")]
    public void Emitted_file_matches_snapshot_and_compiles_cleanly(string name, string source, string hintName)
    {
        var (result, output) = GeneratorHarness.Run(source);

        Assert.Null(result.Exception);
        Assert.Empty(result.Diagnostics);
        var generated = Assert.Single(result.GeneratedSources);
        Assert.Equal(hintName, generated.HintName);

        // Warnings are errors here, and XML docs are checked, as in a strict user project.
        var diagnostics = output.GetDiagnostics().Where(static d => d.Severity > DiagnosticSeverity.Info).ToArray();
        Assert.True(diagnostics.Length == 0, TestCompilation.Describe(diagnostics));

        SnapshotAssert.Match(generated.SourceText.ToString(), GeneratorHarness.SnapshotDirectory, $"{nameof(SnapshotTests)}.{name}");
    }

    [Fact]
    public void Hint_names_stay_distinct_when_dotted_names_collide()
    {
        // Only erroneous code (CS0101) can produce this pair, but the generator must not throw on it.
        var (result, _) = GeneratorHarness.Run(
            "namespace N { [Allocator.Arena] internal sealed partial class A; }",
            "internal partial class N { [Allocator.Arena] internal sealed partial class A; }");

        Assert.Null(result.Exception);
        Assert.Equal(["N+A.g.cs", "N.A.g.cs"], result.GeneratedSources.Select(static s => s.HintName).Order(System.StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public void Output_is_deterministic()
    {
        var first = GeneratorHarness.Run(ValidDeclarations.EveryKnobChanged).Result.GeneratedSources.Single().SourceText.ToString();
        var second = GeneratorHarness.Run(ValidDeclarations.EveryKnobChanged).Result.GeneratedSources.Single().SourceText.ToString();
        Assert.Equal(first, second);
    }

    [Fact]
    public void Two_declarations_get_one_file_each()
    {
        var (result, _) = GeneratorHarness.Run(ValidDeclarations.Defaults, ValidDeclarations.GuardsOn);
        Assert.Equal(
            ["Demo.GuardedArena.g.cs", "Demo.RequestArena.g.cs"],
            result.GeneratedSources.Select(static s => s.HintName).Order().ToArray());
    }
}
