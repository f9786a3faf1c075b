extern alias generator;

using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Allocator.Tests.Infrastructure;
using generator::Allocator.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Allocator.Generators.Tests;

/// <summary>The pipeline caches what did not change and its models hold no compilation state.</summary>
public sealed class IncrementalTests
{
    private static readonly IncrementalStepRunReason[] Reused = [IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged];

    [Fact]
    public void Same_compilation_twice_is_all_cached()
    {
        var compilation = TestCompilation.Create(ValidDeclarations.Defaults, ValidDeclarations.GuardsOn);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var second = driver.RunGenerators(compilation).GetRunResult().Results.Single();

        AssertAllReused(second);
    }

    [Fact]
    public void Unrelated_edit_leaves_outputs_cached()
    {
        var compilation = TestCompilation.Create(ValidDeclarations.Defaults, ValidDeclarations.GuardsOn);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        var first = driver.GetRunResult().Results.Single();
        Assert.All(first.TrackedSteps[TrackingNames.Spec].SelectMany(static s => s.Outputs), static o => Assert.Equal(IncrementalStepRunReason.New, o.Reason));

        var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText(ValidDeclarations.Unrelated, TestCompilation.ParseOptions));
        var second = driver.RunGenerators(edited).GetRunResult().Results.Single();

        AssertAllReused(second);
    }

    [Fact]
    public void Changing_one_argument_regenerates_only_that_declaration()
    {
        var compilation = TestCompilation.Create(ValidDeclarations.Defaults, ValidDeclarations.GuardsOn);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        var guardsTree = compilation.SyntaxTrees.ElementAt(1);
        var changedTree = guardsTree.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From(
            ValidDeclarations.GuardsOn.Replace("LargeEvery = 64", "LargeEvery = 32", StringComparison.Ordinal)));

        var result = driver.RunGenerators(compilation.ReplaceSyntaxTree(guardsTree, changedTree)).GetRunResult().Results.Single();

        var reasons = result.TrackedSteps[TrackingNames.Spec]
            .SelectMany(static s => s.Outputs)
            .Select(static o => (Name: ((generator::Allocator.Generators.Model.ArenaSpec)o.Value).TypeName, o.Reason))
            .ToDictionary(static p => p.Name, static p => p.Reason);
        Assert.Equal(IncrementalStepRunReason.Modified, reasons["GuardedArena"]);
        Assert.Contains(reasons["RequestArena"], Reused);

        var outputs = result.TrackedOutputSteps.SelectMany(static p => p.Value).SelectMany(static s => s.Outputs).ToArray();
        Assert.Single(outputs, static o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Single(outputs, static o => Reused.Contains(o.Reason));
        Assert.Contains("LargeEvery => 32", result.GeneratedSources.Single(static s => s.HintName == "Demo.GuardedArena.g.cs").SourceText.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Turning_unsafe_code_off_regenerates_without_the_native_class()
    {
        var compilation = TestCompilation.Create(ValidDeclarations.Defaults);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        Assert.Contains("public static unsafe class Native", driver.GetRunResult().GeneratedTrees.Single().ToString(), StringComparison.Ordinal);

        var result = driver.RunGenerators(compilation.WithOptions(compilation.Options.WithAllowUnsafe(false))).GetRunResult().Results.Single();

        Assert.All(result.TrackedSteps[TrackingNames.Spec].SelectMany(static s => s.Outputs), static o => Assert.Contains(o.Reason, Reused));
        var model = Assert.Single(result.TrackedSteps[TrackingNames.Model].SelectMany(static s => s.Outputs));
        Assert.Equal(IncrementalStepRunReason.Modified, model.Reason);
        Assert.False(((generator::Allocator.Generators.Model.ArenaSpec)model.Value).AllowUnsafe);
        Assert.DoesNotContain("class Native", result.GeneratedSources.Single().SourceText.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Step_outputs_hold_no_compilation_state()
    {
        var result = GeneratorHarness.Run(ValidDeclarations.Defaults, ValidDeclarations.CustomHooks, ValidDeclarations.Nested).Result;

        foreach (var step in result.TrackedSteps.Where(static s => s.Key is TrackingNames.Transform or TrackingNames.Spec or TrackingNames.Model))
        {
            foreach (var output in step.Value.SelectMany(static s => s.Outputs))
            {
                AssertNoRoslynState(output.Value, step.Key, new HashSet<object>(ReferenceEqualityComparer.Instance));
            }
        }
    }

    private static void AssertAllReused(GeneratorRunResult result)
    {
        Assert.All(result.TrackedSteps[TrackingNames.Spec].SelectMany(static s => s.Outputs), static o => Assert.Contains(o.Reason, Reused));
        var outputs = result.TrackedOutputSteps.SelectMany(static p => p.Value).SelectMany(static s => s.Outputs).ToArray();
        Assert.NotEmpty(outputs);
        Assert.All(outputs, static o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    // Walks every field reachable from a model; symbols, syntax, locations or compilations would
    // root old compilations and defeat caching.
    private static void AssertNoRoslynState(object? value, string path, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum || !seen.Add(value))
        {
            return;
        }

        Assert.False(
            value is ISymbol or SyntaxNode or SyntaxTree or Location or Compilation or SemanticModel or AttributeData or Diagnostic,
            $"{path} holds a {value.GetType().FullName}");

        if (value is IEnumerable items)
        {
            var i = 0;
            foreach (var item in items)
            {
                AssertNoRoslynState(item, $"{path}[{i++}]", seen);
            }
        }

        for (var type = value.GetType(); type is not null && type != typeof(object); type = type.BaseType)
        {
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                AssertNoRoslynState(field.GetValue(value), $"{path}.{field.Name}", seen);
            }
        }
    }
}
