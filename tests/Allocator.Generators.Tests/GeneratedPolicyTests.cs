using System.IO;
using System.Linq;
using System.Reflection;
using Allocator.Tests.Infrastructure;

namespace Allocator.Generators.Tests;

/// <summary>The emitted policy, compiled and loaded, returns what was declared.</summary>
public sealed class GeneratedPolicyTests
{
    [Fact]
    public void Defaults_are_jemallocs()
    {
        var policy = LoadPolicy(ValidDeclarations.Defaults, "Demo.RequestArena+Policy");

        Assert.Equal(false, Get(policy, "IsRuntimeConfigured"));
        Assert.Equal(true, Get(policy, "Retain"));
        Assert.Equal(10_000L, Get(policy, "DirtyDecayMs"));
        Assert.Equal(0L, Get(policy, "MuzzyDecayMs"));
        Assert.Equal(8L << 20, Get(policy, "OversizeThreshold"));
        Assert.Equal(6, Get(policy, "LgExtentMaxActiveFit"));
        Assert.Equal(4, Get(policy, "LgQuantum"));
        Assert.Equal(12, Get(policy, "LgPage"));
        Assert.Equal(2, Get(policy, "LgGroup"));
        Assert.Equal(3, Get(policy, "LgTinyMin"));
        Assert.Equal(0, Get(policy, "GuardSmallEvery"));
        Assert.Equal(0, Get(policy, "GuardLargeEvery"));
        Assert.Equal(true, Get(policy, "ThreadCache"));
        Assert.Equal(false, Get(policy, "DebugChecks"));
        Assert.Equal(true, Get(policy, "UsesDefaultHooks"));
        Assert.Null(policy.GetMethod("CreateHooks")!.Invoke(null, null));
        Assert.True(typeof(IArenaPolicy).IsAssignableFrom(policy));
        Assert.True(policy.IsValueType);
    }

    [Fact]
    public void Every_knob_reaches_the_policy()
    {
        var policy = LoadPolicy(ValidDeclarations.EveryKnobChanged, "Demo.TunedArena+Policy");

        Assert.Equal(false, Get(policy, "Retain"));
        Assert.Equal(-1L, Get(policy, "DirtyDecayMs"));
        Assert.Equal(2_500L, Get(policy, "MuzzyDecayMs"));
        Assert.Equal(64L << 20, Get(policy, "OversizeThreshold"));
        Assert.Equal(3, Get(policy, "LgExtentMaxActiveFit"));
        Assert.Equal(3, Get(policy, "LgQuantum"));
        Assert.Equal(16, Get(policy, "LgPage"));
        Assert.Equal(1, Get(policy, "LgGroup"));
        Assert.Equal(3, Get(policy, "LgTinyMin"));
        Assert.Equal(8, Get(policy, "GuardSmallEvery"));
        Assert.Equal(2, Get(policy, "GuardLargeEvery"));
        Assert.Equal(false, Get(policy, "ThreadCache"));
        Assert.Equal(true, Get(policy, "DebugChecks"));
    }

    [Fact]
    public void HugePages_knobs_reach_the_policy()
    {
        var tuned = LoadPolicy(ValidDeclarations.HugePagesTuned, "Demo.HugeArena+Policy");
        Assert.Equal(HugePageMode.Lazy, Get(tuned, "HugePages"));
        Assert.Equal(2_500L, Get(tuned, "HugifyDelayMs"));
        Assert.Equal(0.9, Get(tuned, "HugificationThreshold"));
        Assert.Equal(-1.0, Get(tuned, "HugePageDirtyMult"));
        Assert.Equal(0L, Get(tuned, "HugePageMinPurgeIntervalMs"));

        var eager = LoadPolicy(ValidDeclarations.HugePagesEager, "Demo.EagerArena+Policy");
        Assert.Equal(HugePageMode.Eager, Get(eager, "HugePages"));
        Assert.Equal(10_000L, Get(eager, "HugifyDelayMs"));
        Assert.Equal(0.25, Get(eager, "HugePageDirtyMult"));
    }

    // Without [HugePages] the generator emits no hugepage member: the interface's defaults (off) apply.
    [Fact]
    public void Without_HugePages_the_policy_has_no_hugepage_member()
    {
        var policy = LoadPolicy(ValidDeclarations.Defaults, "Demo.RequestArena+Policy");
        Assert.Null(policy.GetProperty("HugePages", BindingFlags.Public | BindingFlags.Static));
    }

    [Fact]
    public void Custom_hooks_are_created_per_call()
    {
        var policy = LoadPolicy(ValidDeclarations.CustomHooks, "Demo.HookedArena+Policy");
        var createHooks = policy.GetMethod("CreateHooks")!;

        var first = createHooks.Invoke(null, null);
        var second = createHooks.Invoke(null, null);

        Assert.Equal("Demo.HugePageHooks", first!.GetType().FullName);
        Assert.NotSame(first, second);
        Assert.Equal(false, Get(policy, "UsesDefaultHooks"));
    }

    internal static System.Type LoadPolicy(string source, string policyTypeName)
    {
        var (_, output) = GeneratorHarness.Run(source);
        using var image = new MemoryStream();
        var emitted = output.Emit(image);
        Assert.True(emitted.Success, TestCompilation.Describe(emitted.Diagnostics));
        return Assembly.Load(image.ToArray()).GetType(policyTypeName, throwOnError: true)!;
    }

    private static object? Get(System.Type policy, string name) => policy.GetProperty(name, BindingFlags.Public | BindingFlags.Static)!.GetValue(null);
}
