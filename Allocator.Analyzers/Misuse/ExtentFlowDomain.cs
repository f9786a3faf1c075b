using System.Collections.Generic;
using Allocator.Analyzers.Flow;
using Microsoft.CodeAnalysis.FlowAnalysis;

namespace Allocator.Analyzers.Misuse;

/// <summary>
/// The lattice of <see cref="ExtentFlowState"/>. Address provenance is a "may" fact: where two
/// different values of a variable meet, the variable no longer names one extent, but it may
/// still hold an address-built extent (or an address lookup's result) from one of the paths, and
/// an [AcquiredExtent] argument must not take it.
/// </summary>
internal sealed class ExtentFlowDomain : FlowDomain<ExtentFlowState>
{
    // One merged value per block, variable and provenance, so every pass joins to the same object.
    private readonly Dictionary<(BasicBlock Block, object Variable, string? Origin, string? Lookup), ExtentValue> _merges = new();

    public override ExtentFlowState Unknown() => new(new Variables<ExtentValue>());

    public override ExtentFlowState Clone(ExtentFlowState state) => new(state.Variables.Clone());

    public override bool Equal(ExtentFlowState a, ExtentFlowState b) => a.Variables.SameAs(b.Variables);

    public override ExtentFlowState Join(BasicBlock block, ExtentFlowState a, ExtentFlowState b) =>
        new(Variables<ExtentValue>.Join(block, a.Variables, b.Variables, Merge));

    private ExtentValue? Merge(BasicBlock block, object variable, ExtentValue a, ExtentValue b)
    {
        var origin = a.AddressOrigin ?? b.AddressOrigin;
        var lookup = a.LookupMethod ?? b.LookupMethod;
        if (origin is null && lookup is null) return null;
        var key = (block, variable, origin, lookup);
        if (!_merges.TryGetValue(key, out var merged))
        {
            merged = new ExtentValue { AddressOrigin = origin, LookupMethod = lookup };
            _merges[key] = merged;
        }

        return merged;
    }
}
