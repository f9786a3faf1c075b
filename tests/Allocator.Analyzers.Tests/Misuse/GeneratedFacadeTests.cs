extern alias generator;

using System.Collections.Immutable;
using System.Linq;
using System.Threading.Tasks;
using Allocator.Analyzers.Misuse;
using Allocator.Tests.Infrastructure;
using generator::Allocator.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Allocator.Analyzers.Tests.Misuse;

/// <summary>
/// The arena rules over the facade the generator really emits (its Policy, Core and Shared),
/// not a hand-written stand-in: generator first, then the analyzers on its output.
/// </summary>
public sealed class GeneratedFacadeTests
{
    private const string Declarations = """
        using Allocator;

        [Arena] internal sealed partial class Requests;
        [Arena] internal sealed partial class Frames;
        [Arena, SizeClasses(LgQuantum = 3)] internal sealed partial class Fine;

        internal static unsafe class Code
        {
            public static void SameArena()
            {
                using var r = new Requests();
                void* p = r.Allocate(64);
                r.Core.FreeSized(p, 64);                 // the facade and its Core: one arena
                void* q = Requests.Shared.Allocate(64);
                Requests.Shared.Core.FreeSized(q, 64);
            }

            public static void OtherArena(Requests r, Frames f)
            {
                void* p = r.Allocate(64);
                f.FreeSized(p, 64);                      // ALLOC2003 at 21
                void* q = r.Core.Allocate(64);
                f.Core.FreeSized(q, 64);                 // ALLOC2003 at 23
            }

            public static void Classes(Fine fine, Requests r)
            {
                void* p = fine.Allocate(24);             // LgQuantum 3: a 24-byte class
                fine.FreeSized(p, 32);                   // ALLOC2006 at 29
                void* q = r.Allocate(24);                // default quantum 16: the 32-byte class
                r.FreeSized(q, 32);
                void* s = r.Allocate(100);
                r.Free(s);                               // ALLOC3001 at 33
            }
        }
        """;

    [Fact]
    public async Task Rules_see_through_the_generated_facade()
    {
        var compilation = TestCompilation.Create(Declarations);
        CSharpGeneratorDriver.Create(new ArenaGenerator()).RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        Assert.Empty(generatorDiagnostics);
        Assert.Empty(output.GetDiagnostics().Where(static d => d.Severity == DiagnosticSeverity.Error));

        var diagnostics = await output
            .WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new ArenaMisuseAnalyzer(), new ExtentDisciplineAnalyzer()))
            .GetAnalyzerDiagnosticsAsync();

        var found = diagnostics
            .Select(static d => $"{d.Id} at {d.Location.GetLineSpan().StartLinePosition.Line + 1}")
            .OrderBy(static s => s, System.StringComparer.Ordinal)
            .ToArray();
        Assert.Equal(new[] { "ALLOC2003 at 21", "ALLOC2003 at 23", "ALLOC2006 at 29", "ALLOC3001 at 33" }, found);
    }
}
