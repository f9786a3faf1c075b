using System.Collections.Generic;
using System.Linq;
using Allocator.Tests.Infrastructure;

namespace Allocator.Generators.Tests;

/// <summary>The generator emits nothing (and reports nothing) for what the analyzers reject.</summary>
public sealed class InvalidDeclarationTests
{
    public static IEnumerable<object[]> Cases() => Fixtures.Invalid.Select(static f => new object[] { f.Id, f.Name });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Generator_emits_nothing(string id, string name)
    {
        var fixture = Fixtures.Invalid.Single(f => f.Id == id && f.Name == name);

        var (result, _) = GeneratorHarness.Run(Fixtures.StripMarkup(fixture.Source));

        Assert.Null(result.Exception);
        Assert.Empty(result.Diagnostics);
        Assert.Empty(result.GeneratedSources);
    }
}
