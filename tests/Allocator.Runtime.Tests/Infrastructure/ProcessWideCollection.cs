namespace Allocator.Tests.Infrastructure;

/// <summary>
/// Tests that read process-wide state (the Os call counters, /proc/self/maps) join this collection:
/// xunit runs it with no other test in parallel, so another test's mappings cannot move the numbers.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideCollection
{
    public const string Name = "Process-wide OS state";
}
