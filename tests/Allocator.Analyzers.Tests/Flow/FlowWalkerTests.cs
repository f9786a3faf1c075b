using System.Collections.Generic;
using Allocator.Analyzers.Flow;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Allocator.Analyzers.Tests.Flow;

/// <summary>
/// The flow core on toy domains, with no arena in sight: the join at branches, the fixed point
/// over loops, the bottom of blocks not walked yet, and what a rule is told at a loop head.
/// </summary>
public sealed class FlowWalkerTests
{
    [Fact]
    public void A_join_keeps_what_both_branches_agree_on_and_drops_the_rest() =>
        Assert.Equal(new[] { "x=? y=1 z=?" }, ConstantWalker.Run("""
                    int x = 1, y = 1, z = 1;
                    if (c) { x = 2; y = 1; } else { x = 3; z = 2; }
                    Probe(x, y, z);
            """));

    [Fact]
    public void Three_branches_meeting_at_one_block_are_all_joined() =>
        // Each of x, y, z differs from 1 on one branch only: ignoring any one path makes it constant.
        Assert.Equal(new[] { "x=? y=? z=? w=4" }, ConstantWalker.Run("""
                    int x = 1, y = 1, z = 1, w = 4;
                    if (c) x = 9;
                    else if (d) y = 9;
                    else z = 9;
                    Probe(x, y, z, w);
            """));

    [Fact]
    public void A_chain_of_copies_around_a_loop_is_followed_to_its_end() =>
        // a reaches b on the second pass, b reaches e on the fifth: each link needs one more pass.
        Assert.Equal(new[] { "a=? b=? e=? f=0" }, ConstantWalker.Run("""
                    int a = 0, b = 0, x = 0, y = 0, e = 0, f = 0;
                    while (c) { e = y; y = x; x = b; b = a; a = 1; }
                    Probe(a, b, e, f);
            """));

    [Fact]
    public void A_value_that_only_goes_round_the_loop_stays_known() =>
        // The back edge is not walked on the first pass: it adds nothing then (bottom), so the
        // copy x = y = x keeps x's constant instead of losing it to "unknown".
        Assert.Equal(new[] { "x=5", "x=5" }, ConstantWalker.Run("""
                    int x = 5;
                    while (c) { int y = x; Probe(x); x = y; }
                    Probe(x);
            """));

    [Fact]
    public void Nested_loops_settle_and_the_outer_state_reaches_the_inner_head() =>
        Assert.Equal(new[] { "i=? k=7 j=?" }, ConstantWalker.Run("""
                    int i = 0, j = 0, k = 7;
                    while (c) { while (d) { j = i; } i = 1; k = 7; }
                    Probe(i, k, j);
            """));

    [Fact]
    public void An_exception_handler_starts_with_nothing_known() =>
        Assert.Equal(new[] { "", "x=?", "x=2" }, ConstantWalker.Run("""
                    int x = 1;
                    try { x = 2; Probe(); } catch { Probe(x); }
                    x = 2;
                    Probe(x);
            """));

    [Fact]
    public void A_graph_that_does_not_settle_reports_nothing()
    {
        // Counting without a bound never settles: i grows by one each pass.
        Assert.Empty(CounterWalker.Run("""
                    int i = 0;
                    while (c) { i = i + 1; }
                    Probe(i);
            """));
        Assert.Equal(new[] { 1 }, CounterWalker.Run("""
                    int i = 0;
                    if (c) { i = i + 1; }
                    Probe(i);
            """));
    }

    [Fact]
    public void A_loop_head_is_told_its_latch_and_the_states_its_back_edges_carried()
    {
        var (heads, graph) = LoopRecorder.Run("""
                    int x = 0;
                    while (c) { x = 1; if (d) continue; x = 2; }
                    do { x = 3; } while (d);
            """);
        Assert.Equal(2, heads.Count);

        // The while loop: two back edges (the continue and the body's end), both walked.
        var (whileHead, whileLatch, whileEdges) = heads[0];
        Assert.Equal(2, whileEdges);
        Assert.True(whileLatch > whileHead);
        Assert.Contains(graph.Blocks[whileLatch].Successors(), branch => branch?.Ordinal == whileHead);

        // The do-while body is one block that branches back to itself: it is its own latch.
        var (doHead, doLatch, doEdges) = heads[1];
        Assert.Equal(doHead, doLatch);
        Assert.Equal(1, doEdges);
    }

    [Fact]
    public void Aliases_survive_a_join_only_when_every_path_binds_the_same_object() =>
        Assert.Equal(new[] { true, false, true, false, true }, AliasWalker.Run("""
                    object a = new object();
                    object b = a;
                    Same(a, b);
                    if (c) b = new object();
                    Same(a, b);
                    if (d) b = a; else b = a;
                    Same(a, b);
                    object e = c ? a : new object();
                    Same(a, e);
                    object g = d ? b : a;
                    Same(a, g);
            """));

    [Fact]
    public void An_alias_carried_round_a_loop_is_kept_and_a_definition_is_one_value_on_every_pass() =>
        Assert.Equal(new[] { true, false, true }, AliasWalker.Run("""
                    object a = new object();
                    object b = a;
                    object last = a;
                    while (c) { object t = b; b = t; last = new object(); }
                    Same(a, b);
                    Same(a, last);
                    Make(out var m);
                    object n = m;
                    Same(m, n);
            """));

    [Fact]
    public void A_variable_a_lambda_writes_is_never_tracked() =>
        Assert.Equal(new[] { false }, AliasWalker.Run("""
                    object a = new object();
                    object b = a;
                    System.Action f = () => b = new object();
                    Same(a, b);
            """));

    /// <summary>
    /// A lattice of unbounded height: each local's largest value, joined by max. A loop that
    /// counts climbs it forever, so the walk must give up.
    /// </summary>
    private sealed class CounterWalker : FlowWalker<Dictionary<string, int>>
    {
        private CounterWalker()
            : base(new MaxDomain())
        {
        }

        private List<int> Probes { get; } = new();

        public static List<int> Run(string body)
        {
            var walker = new CounterWalker();
            walker.Run(Snippet.Graph(body), default);
            return walker.Probes;
        }

        protected override Dictionary<string, int> Start(ControlFlowGraph graph) => new();

        protected override Dictionary<string, int> Transfer(BasicBlock block, Dictionary<string, int> entry)
        {
            foreach (var operation in block.Operations)
            {
                var statement = operation is IExpressionStatementOperation expression ? expression.Operation : operation;
                if (statement is ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } assignment)
                {
                    entry[target.Local.Name] = assignment.Value switch
                    {
                        ILiteralOperation { ConstantValue.Value: int literal } => literal,
                        IBinaryOperation { LeftOperand: ILocalReferenceOperation local } => entry[local.Local.Name] + 1,
                        _ => 0,
                    };
                }
                else if (Reporting && statement is IInvocationOperation { TargetMethod.Name: "Probe" } probe
                    && probe.Arguments[0].Value is IArrayCreationOperation { Initializer.ElementValues: [ILocalReferenceOperation probed] })
                {
                    Probes.Add(entry[probed.Local.Name]);
                }
            }

            return entry;
        }

        private sealed class MaxDomain : FlowDomain<Dictionary<string, int>>
        {
            public override Dictionary<string, int> Unknown() => new();

            public override Dictionary<string, int> Clone(Dictionary<string, int> state) => new(state);

            public override Dictionary<string, int> Join(BasicBlock block, Dictionary<string, int> a, Dictionary<string, int> b)
            {
                var result = new Dictionary<string, int>(a);
                foreach (var pair in b) result[pair.Key] = result.TryGetValue(pair.Key, out var other) ? System.Math.Max(other, pair.Value) : pair.Value;
                return result;
            }

            public override bool Equal(Dictionary<string, int> a, Dictionary<string, int> b) =>
                a.Count == b.Count && System.Linq.Enumerable.All(a, pair => b.TryGetValue(pair.Key, out var other) && other == pair.Value);
        }
    }

    /// <summary>Records, at the fixed point, each loop head's ordinal, latch and walked back edges.</summary>
    private sealed class LoopRecorder : FlowWalker<Dictionary<string, int>>
    {
        private LoopRecorder(RecordingDomain domain)
            : base(domain) => Domain = domain;

        private new RecordingDomain Domain { get; }

        public static (List<(int Head, int Latch, int BackEdges)> Heads, ControlFlowGraph Graph) Run(string body)
        {
            var graph = Snippet.Graph(body);
            var walker = new LoopRecorder(new RecordingDomain());
            walker.Run(graph, default);
            var heads = new List<(int, int, int)>();
            foreach (var pair in walker.Domain.Heads) heads.Add((pair.Key, pair.Value.Latch, pair.Value.BackEdges));
            heads.Sort();
            return (heads, graph);
        }

        protected override Dictionary<string, int> Start(ControlFlowGraph graph) => new();

        protected override Dictionary<string, int> Transfer(BasicBlock block, Dictionary<string, int> entry) => entry;

        private sealed class RecordingDomain : FlowDomain<Dictionary<string, int>>
        {
            // The last entry seen for each head: the report pass's, at the fixed point.
            public SortedDictionary<int, (int Latch, int BackEdges)> Heads { get; } = new();

            public override Dictionary<string, int> Unknown() => new();

            public override Dictionary<string, int> Clone(Dictionary<string, int> state) => new(state);

            public override Dictionary<string, int> Join(BasicBlock block, Dictionary<string, int> a, Dictionary<string, int> b) => new();

            public override bool Equal(Dictionary<string, int> a, Dictionary<string, int> b) => a.Count == b.Count;

            public override void Enter(BlockEntry<Dictionary<string, int>> entry, Dictionary<string, int> joined)
            {
                if (entry.IsLoopHead) Heads[entry.Block.Ordinal] = (entry.Latch, entry.BackEdges.Count);
            }
        }
    }
}

/// <summary>The blocks a block may branch to.</summary>
internal static class BlockExtensions
{
    public static IEnumerable<BasicBlock?> Successors(this BasicBlock block)
    {
        yield return block.FallThroughSuccessor?.Destination;
        yield return block.ConditionalSuccessor?.Destination;
    }
}
