using System.Threading.Tasks;
using Allocator.Analyzers.CodeFixes;
using Allocator.Analyzers.Misuse;

namespace Allocator.Analyzers.Tests.Misuse;

/// <summary>ALLOC2003 to ALLOC2007 and ALLOC3001, each with its reported and not-reported flows.</summary>
public sealed class ArenaMisuseAnalyzerTests
{
    // Two facades written by hand the way the generator writes them (the generator does not run here).
    private const string Facades = """
        [Arena]
        public sealed unsafe partial class Frames : IDisposable
        {
            public static Frames Shared { get; } = new();
            public void* Allocate(nuint size) => null;
            public void Free(void* pointer) { }
            public void FreeSized(void* pointer, nuint size) { }
            public void Reset() { }
            public void Dispose() { }
        }

        [Arena]
        public sealed unsafe partial class Tiles : IDisposable
        {
            public static Tiles Shared { get; } = new();
            public void* Allocate(nuint size) => null;
            public void Free(void* pointer) { }
            public void FreeSized(void* pointer, nuint size) { }
            public void Reset() { }
            public void Dispose() { }
        }
        """;

    private static string Code(string members) => $$"""
        using System;
        using Allocator;

        public static unsafe class Code
        {
        {{members}}
        }

        {{Facades}}
        """;

    private static Task Verify(string members) => AnalyzerTest.VerifyAsync<ArenaMisuseAnalyzer>(Code(members));

    // --- ALLOC2005: freed twice ---

    [Fact]
    public Task ALLOC2005_twice_in_a_row_and_through_an_alias() => Verify("""
            public static void M(Arena a, void* p, void* r)
            {
                a.Free(p);
                {|ALLOC2005:a.Free(p)|};
                void* q = r;
                a.Free(r);
                {|ALLOC2005:a.FreeSized(q, 16)|};
            }
        """);

    [Fact]
    public Task ALLOC2005_freed_on_both_branches_then_again_and_after_Reallocate() => Verify("""
            public static void M(Arena a, void* p, void* r, bool c)
            {
                if (c) a.Free(p);
                else a.FreeSized(p, 8);
                {|ALLOC2005:a.Free(p)|};
                a.Free(r);
                void* moved = {|ALLOC2005:a.Reallocate(r, 128)|};
                a.FreeSized(moved, 128);
            }
        """);

    [Fact]
    public Task ALLOC2005_inside_a_loop_body_and_a_lambda() => Verify("""
            public static void M(Arena a, void*[] blocks, void* p)
            {
                for (int i = 0; i < blocks.Length; i++)
                {
                    void* b = blocks[i];
                    a.Free(b);
                    {|ALLOC2005:a.Free(b)|};
                }

                Action free = () =>
                {
                    a.Free(p);
                    {|ALLOC2005:a.Free(p)|};
                };
            }
        """);

    [Fact]
    public Task ALLOC2005_freed_again_by_the_next_iteration_of_a_loop() => Verify("""
            public static void M(Arena a, void* p, void* q, bool c, int n)
            {
                while (c)
                {
                    {|ALLOC2005:a.Free(p)|};
                    c = n-- > 0;
                }

                // The loop may not have run: this Free is not certainly the second.
                a.Free(p);

                do
                {
                    if (c) {|ALLOC2005:a.FreeSized(q, 8)|};
                    else {|ALLOC2005:a.Free(q)|};
                }
                while (n-- > 0);
            }
        """);

    [Fact]
    public Task ALLOC2005_in_a_do_while_whose_body_is_one_block_that_loops_to_itself() => Verify("""
            public static void M(Arena a, void* p, bool c)
            {
                do
                {
                    {|ALLOC2005:a.Free(p)|};
                }
                while (c);
            }
        """);

    [Fact]
    public Task ALLOC2005_not_reported_for_loops_that_reassign_exit_or_free_on_some_iterations() => Verify("""
            public static void M(Arena a, void* p, void* q, void* r, void*[] blocks, int n)
            {
                foreach (var b in blocks) a.Free(b);
                while (n-- > 0)
                {
                    a.Free(p);
                    p = blocks[n];
                }

                while (true)
                {
                    a.Free(q);
                    break;
                }

                for (int i = 0; i < n; i++)
                {
                    if (i == n - 1) a.Free(r);
                }

            }
        """);

    [Fact]
    public Task ALLOC2005_not_reported_after_reassignment_or_on_different_branches() => Verify("""
            public static void M(Arena a, void* p, void* r, bool c)
            {
                a.Free(p);
                p = a.Allocate(32);
                a.FreeSized(p, 32);
                if (c) a.Free(r);
                else a.Free(r);
            }
        """);

    [Fact]
    public Task ALLOC2005_not_reported_when_only_some_paths_freed_or_for_other_pointers() => Verify("""
            public static void M(Arena a, void* p, void* q, void* r, bool done)
            {
                // Reallocate may hand back the same block (same size class): not a free of r.
                if (a.Reallocate(r, 4500) == r) a.Free(r);

                // Freed on one path only: the rule reports certain double frees, not correlated flags.
                if (done) a.Free(p);
                if (!done) a.Free(p);
                a.Free(q);
                a.Free((byte*)q + 16);
            }
        """);

    [Fact]
    public Task ALLOC2005_not_reported_for_fresh_blocks_in_a_loop_or_frees_split_by_a_lambda() => Verify("""
            public static void M(Arena a, void* p, int n)
            {
                for (int i = 0; i < n; i++)
                {
                    void* b = a.Allocate(16);
                    a.FreeSized(b, 16);
                }

                a.Free(p);
                Action later = () => a.Free(p);
                void* s = null;
                Action assign = () => s = a.Allocate(8);
                a.Free(s);
                a.Free(s);
            }
        """);

    // --- ALLOC2004: used after Dispose/Reset ---

    [Fact]
    public Task ALLOC2004_arena_used_after_Dispose() => Verify("""
            public static void M(bool c)
            {
                var a = Arena.Create();
                if (c) a.Dispose();
                else a.Dispose();
                {|ALLOC2004:a.Purge()|};
                var f = new Frames();
                void* p = f.Allocate(8);
                f.Dispose();
                {|ALLOC2004:f.FreeSized(p, 8)|};
            }
        """);

    [Fact]
    public Task ALLOC2004_memory_used_after_Reset_directly_and_through_an_alias() => Verify("""
            public static void M(Arena a)
            {
                byte* p = (byte*)a.Allocate(8);
                void* q = p + 4;
                a.Reset();
                {|ALLOC2004:p|}[0] = 1;
                *(int*){|ALLOC2004:q|} = 2;
            }
        """);

    [Fact]
    public Task ALLOC2004_in_a_lambda_and_after_a_loop() => Verify("""
            public static void M(int n)
            {
                Action run = () =>
                {
                    var a = Arena.Create();
                    a.Dispose();
                    {|ALLOC2004:a.Allocate(8)|};
                };
                var b = Arena.Create();
                long* sum = (long*)b.AllocateZeroed(8);
                for (int i = 0; i < n; i++) b.Reset();
                b.Dispose();
                Console.WriteLine(*{|ALLOC2004:sum|});
            }
        """);

    [Fact]
    public Task ALLOC2004_not_reported_for_new_blocks_after_Reset_or_comparisons() => Verify("""
            public static void M(Arena a)
            {
                byte* p = (byte*)a.Allocate(8);
                a.Reset();
                if (p != null) p = null;
                p = (byte*)a.Allocate(8);
                p[0] = 1;
                a.FreeSized(p, 8);
            }
        """);

    [Fact]
    public Task ALLOC2004_not_reported_when_disposed_on_one_branch_or_twice() => Verify("""
            public static void M(Arena a, bool c)
            {
                if (c) a.Dispose();
                a.Purge();
                a.Dispose();
                a.Dispose();
            }
        """);

    [Fact]
    public Task ALLOC2004_not_reported_for_another_arena_or_using() => Verify("""
            public static void M(Arena a, Arena b)
            {
                byte* p = (byte*)a.Allocate(8);
                b.Reset();
                p[0] = 1;
                using (var scoped = Arena.Create())
                {
                    scoped.Allocate(8);
                }
            }
        """);

    // --- ALLOC2003: freed to another arena ---

    [Fact]
    public Task ALLOC2003_created_arenas() => Verify("""
            public static void M()
            {
                var a = Arena.Create();
                var b = new Frames();
                void* p = a.Allocate(8);
                void* q = p;
                {|ALLOC2003:b.FreeSized(q, 8)|};
                void* r = b.Allocate(8);
                {|ALLOC2003:a.Reallocate(r, 16)|};
            }
        """);

    [Fact]
    public Task ALLOC2003_different_facade_types() => Verify("""
            public static void M()
            {
                void* p = Frames.Shared.Allocate(64);
                {|ALLOC2003:Tiles.Shared.FreeSized(p, 64)|};
            }
        """);

    [Fact]
    public Task ALLOC2003_in_a_branch() => Verify("""
            public static void M(bool c)
            {
                var a = Arena.Create();
                var b = Arena.Create();
                void* p = a.Allocate(8);
                if (c) {|ALLOC2003:b.FreeSized(p, 8)|};
                else a.FreeSized(p, 8);
            }
        """);

    [Fact]
    public Task ALLOC2003_not_reported_for_aliases_of_one_arena_or_unknown_arenas() => Verify("""
            public static void M(Arena x, Arena y, bool c)
            {
                var a = Arena.Create();
                var alias = a;
                void* p = a.Allocate(8);
                alias.FreeSized(p, 8);
                void* q = x.Allocate(8);
                y.FreeSized(q, 8);
                Arena target = c ? a : x;
                void* r = a.Allocate(8);
                target.FreeSized(r, 8);
                void* s = Frames.Shared.Allocate(8);
                Frames.Shared.FreeSized(s, 8);
            }
        """);

    // --- ALLOC2006: FreeSized with a size of another class ---

    [Fact]
    public Task ALLOC2006_default_arena_and_alias() => Verify("""
            public static void M()
            {
                var a = Arena.Create();
                void* p = a.Allocate(24);
                a.FreeSized(p, {|ALLOC2006:64|});
                void* q = a.AllocateZeroed(4096);
                void* r = q;
                a.FreeSized(r, {|ALLOC2006:100|});
            }
        """);

    [Fact]
    public Task ALLOC2006_facade_classes_and_Reallocate() => Verify("""
            public static void M(Frames f, Arena a)
            {
                void* p = f.Allocate(100);
                f.FreeSized(p, {|ALLOC2006:200|});
                var created = Arena.Create();
                void* q = created.Reallocate(null, 8192);
                created.FreeSized(q, {|ALLOC2006:8|});
            }
        """);

    [Fact]
    public Task ALLOC2006_in_a_loop_and_a_branch() => Verify("""
            public static void M(Frames f, int n, bool c)
            {
                for (int i = 0; i < n; i++)
                {
                    void* p = f.Allocate(48);
                    if (c) f.FreeSized(p, {|ALLOC2006:16|});
                    else f.FreeSized(p, 48);
                }
            }
        """);

    [Fact]
    public Task ALLOC2006_not_reported_within_one_class_or_for_unknown_classes() => Verify("""
            public static void M(Arena unknown, nuint size, ArenaOptions options)
            {
                var a = Arena.Create();
                void* p = a.Allocate(20);
                a.FreeSized(p, 32);
                void* q = unknown.Allocate(24);
                unknown.FreeSized(q, 64);
                void* r = a.Allocate(24);
                a.FreeSized(r, size);
                var configured = Arena.Create(options);
                void* s = configured.Allocate(24);
                configured.FreeSized(s, 64);
                void* t = a.AllocateAligned(24, 64);
                a.FreeSized(t, 24, 64);
            }
        """);

    // --- ALLOC2007: FreeSized without the alignment of a block from AllocateAligned ---

    [Fact]
    public Task ALLOC2007_reported_for_an_aligned_block_and_its_alias() => Verify("""
            public static void M(Arena a, nuint size)
            {
                void* p = a.AllocateAligned(1, 64);
                {|ALLOC2007:a.FreeSized(p, 1)|};
                var created = Arena.Create();
                void* q = created.AllocateAligned(size, 4096);
                void* alias = q;
                {|ALLOC2007:created.FreeSized(alias, size)|};
            }
        """);

    [Fact]
    public Task ALLOC2007_reported_on_one_branch_of_two() => Verify("""
            public static void M(Arena a, bool c)
            {
                void* p = a.AllocateAligned(100, 256);
                if (c) {|ALLOC2007:a.FreeSized(p, 100)|};
                else a.FreeSized(p, 100, 256);
            }
        """);

    [Fact]
    public Task ALLOC2007_not_reported_with_the_alignment_or_for_other_blocks() => Verify("""
            public static void M(Arena a, void* unknown)
            {
                void* p = a.AllocateAligned(1, 64);
                a.FreeSized(p, 1, 64);
                void* q = a.Allocate(24);
                a.FreeSized(q, 24);
                a.FreeSized(unknown, 8);
                void* r = a.AllocateAligned(8, 8);
                r = a.Allocate(8);
                a.FreeSized(r, 8);
                void* s = a.AllocateAligned(1, 64);
                a.Free(s);
            }
        """);

    // --- ALLOC3001: Free where FreeSized could be used ---

    [Fact]
    public Task ALLOC3001_reported_for_constants_parameters_and_lengths() => Verify("""
            public static void M(Arena a, Frames f, nuint size, string name)
            {
                void* p = a.Allocate(64);
                {|ALLOC3001:a.Free(p)|};
                void* z = a.AllocateZeroed(size);
                void* alias = z;
                {|ALLOC3001:a.Free(alias)|};
                void* n = f.Allocate((nuint)name.Length);
                {|ALLOC3001:f.Free(n)|};
                void* c = a.Allocate(Chunk);
                {|ALLOC3001:a.Free(c)|};
            }

            private const int Chunk = 256;
        """);

    [Fact]
    public Task ALLOC3001_not_reported_when_the_size_changed_is_out_of_scope_or_unknown() => Verify("""
            public static void M(Arena a, bool c)
            {
                nuint n = 8;
                void* p = a.Allocate(n);
                n = 16;
                a.Free(p);
                void* q;
                {
                    nuint m = 8;
                    q = a.Allocate(m);
                }
                a.Free(q);
                void* r = a.Allocate(Size());
                a.Free(r);
                void* s = a.AllocateAligned(64, 64);
                a.Free(s);
                void* t = c ? a.Allocate(8) : a.Allocate(16);
                a.Free(t);
            }

            private static nuint Size() => 24;

            private static readonly nuint Block = 48;

            public static void Shadowed(Arena a)
            {
                void* p = a.Allocate(Block);
                {
                    nuint Block = 8;
                    a.Free(p);
                    _ = Block;
                }
            }
        """);

    [Fact]
    public Task ALLOC3001_not_reported_through_another_arena_reference() => Verify("""
            public static void M(Arena a, Arena b)
            {
                void* p = a.Allocate(64);
                b.Free(p);
            }
        """);

    [Fact]
    public Task ALLOC3001_fix_passes_the_allocated_size() =>
        AnalyzerTest.VerifyFixAsync<ArenaMisuseAnalyzer, UseFreeSizedCodeFix>(
            Code("""
                public static void M(Arena a, string name)
                {
                    void* p = a.Allocate((nuint)name.Length * 2);
                    {|ALLOC3001:a.Free(p)|};
                    void* q = a.Allocate(64);
                    {|ALLOC3001:a.Free(q)|};
                }
            """),
            Code("""
                public static void M(Arena a, string name)
                {
                    void* p = a.Allocate((nuint)name.Length * 2);
                    a.FreeSized(p, (nuint)name.Length * 2);
                    void* q = a.Allocate(64);
                    a.FreeSized(q, 64);
                }
            """));
}
