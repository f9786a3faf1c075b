using System.Threading.Tasks;
using Allocator.Analyzers.CodeFixes;

namespace Allocator.Analyzers.Tests;

/// <summary>ALLOC1001's fix adds 'partial' where the type keyword needs it.</summary>
public sealed class MakePartialCodeFixTests
{
    [Fact]
    public Task Adds_partial_after_the_other_modifiers() =>
        AnalyzerTest.VerifyFixAsync<MakePartialCodeFix>(
            """
            using Allocator;
            [Arena] public sealed class {|ALLOC1001:RequestArena|};
            """,
            """
            using Allocator;
            [Arena] public sealed partial class RequestArena;
            """);

    [Fact]
    public Task Adds_partial_to_a_containing_type_without_modifiers_keeping_its_indentation() =>
        AnalyzerTest.VerifyFixAsync<MakePartialCodeFix>(
            """
            using Allocator;
            namespace Demo
            {
                // Holds the arena.
                class {|ALLOC1001:Host|}
                {
                    [Arena] internal sealed partial class Inner;
                }
            }
            """,
            """
            using Allocator;
            namespace Demo
            {
                // Holds the arena.
                partial class Host
                {
                    [Arena] internal sealed partial class Inner;
                }
            }
            """);

    [Fact]
    public Task Fixes_the_type_and_its_containing_types_together() =>
        AnalyzerTest.VerifyFixAsync<MakePartialCodeFix>(
            """
            using Allocator;
            public static class {|ALLOC1001:Outer|}
            {
                [Arena] public sealed class {|ALLOC1001:Inner|};
            }
            """,
            """
            using Allocator;
            public static partial class Outer
            {
                [Arena] public sealed partial class Inner;
            }
            """);
}
