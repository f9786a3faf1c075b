using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xunit.Abstractions;

namespace Allocator.Package.Tests;

/// <summary>The Allocator.Runtime package as a user gets it: its entries, then a project that consumes it.</summary>
public sealed class PackageTests : IClassFixture<PackedRuntime>
{
    private static readonly string[] RoslynComponents =
        ["Allocator.Generators", "Allocator.Analyzers", "Allocator.Analyzers.CodeFixes"];

    private readonly PackedRuntime _package;
    private readonly ITestOutputHelper _output;

    public PackageTests(PackedRuntime package, ITestOutputHelper output)
    {
        _package = package;
        _output = output;
        _output.WriteLine($"packed {package.Version} in {package.Pack.Elapsed.TotalSeconds:F1} s (once per run)");
    }

    [Fact]
    public void Package_holds_the_runtime_the_roslyn_components_readme_and_license_and_nothing_else()
    {
        string[] packages = Directory.GetFiles(_package.Feed, "*.nupkg");
        Assert.Equal(_package.PackagePath, Assert.Single(packages));

        using ZipArchive nupkg = ZipFile.OpenRead(_package.PackagePath);
        // NuGet's own bookkeeping (the OPC parts and the nuspec) aside, these are all the files.
        string[] files = nupkg.Entries.Select(e => e.FullName)
            .Where(n => !n.StartsWith("_rels/", StringComparison.Ordinal)
                && !n.StartsWith("package/", StringComparison.Ordinal)
                && n != "[Content_Types].xml"
                && n != $"{PackedRuntime.PackageId}.nuspec")
            .Order(StringComparer.Ordinal)
            .ToArray();
        string[] expected =
        [
            "LICENSE",
            "README.md",
            .. RoslynComponents.Select(c => $"analyzers/dotnet/cs/{c}.dll"),
            "lib/net10.0/Allocator.Runtime.dll",
            "lib/net10.0/Allocator.Runtime.xml",
        ];
        Assert.Equal(expected.Order(StringComparer.Ordinal), files);

        XDocument nuspec = ReadNuspec(nupkg);
        XNamespace ns = nuspec.Root!.Name.Namespace;
        XElement metadata = nuspec.Root.Element(ns + "metadata")!;
        Assert.Equal(_package.Version, metadata.Element(ns + "version")?.Value);
        Assert.Equal("MIT", metadata.Element(ns + "license")?.Value);
        Assert.Equal("expression", metadata.Element(ns + "license")?.Attribute("type")?.Value);
        Assert.Equal("README.md", metadata.Element(ns + "readme")?.Value);
        Assert.Equal("Allocator contributors", metadata.Element(ns + "authors")?.Value);
        // A dependency group for net10.0 may be present, but empty: the Roslyn projects are not dependencies.
        Assert.Empty(nuspec.Descendants(ns + "dependency"));

        // The runtime builds after the Roslyn projects but does not reference them.
        string[] references = AssemblyReferences(nupkg.GetEntry("lib/net10.0/Allocator.Runtime.dll")!);
        Assert.DoesNotContain(references, r => RoslynComponents.Contains(r) || r.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal));

        Assert.True(File.Exists(_package.SymbolPackagePath), $"no symbol package: {_package.SymbolPackagePath}\n{_package.Pack}");
        using ZipArchive snupkg = ZipFile.OpenRead(_package.SymbolPackagePath);
        Assert.Contains(snupkg.Entries, e => e.FullName == "lib/net10.0/Allocator.Runtime.pdb");
    }

    [Fact]
    public void Consumer_declaring_an_arena_builds_with_warnings_as_errors_and_runs()
    {
        var consumer = new ConsumerProject(_package, "Consumer", """
            using System;
            using Allocator;

            [Arena(DirtyDecayMs = 1_000, MuzzyDecayMs = 0)]
            public sealed partial class DemoArena;

            public static unsafe class Program
            {
                public static int Main()
                {
                    using var arena = new DemoArena();
                    byte* block = (byte*)arena.Allocate(1 << 20);
                    block[0] = 1;
                    block[(1 << 20) - 1] = 2;
                    Console.WriteLine($"allocated {arena.GetStats().Allocated}");
                    arena.Free(block);
                    arena.Validate();
                    Console.WriteLine("done");
                    return 0;
                }
            }

            """);

        CliResult build = consumer.Build();
        _output.WriteLine(build.ToString());
        Assert.True(build.Succeeded, build.ToString());
        Assert.Contains(" 0 Warning(s)", build.Output, StringComparison.Ordinal);

        CliResult run = consumer.Run();
        _output.WriteLine(run.ToString());
        Assert.True(run.Succeeded, run.ToString());
        Match allocated = Regex.Match(run.Output, @"^allocated (\d+)$", RegexOptions.Multiline);
        Assert.True(allocated.Success, run.ToString());
        // At least the mebibyte asked for (its size class is exactly 1 MiB); thread caches may count more.
        Assert.True(long.Parse(allocated.Groups[1].Value, CultureInfo.InvariantCulture) >= 1 << 20, run.ToString());
        Assert.Contains("done", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Consumer_with_bad_declarations_fails_to_build_with_the_analyzer_errors()
    {
        var consumer = new ConsumerProject(_package, "BadConsumer", """
            using Allocator;

            [Arena]
            public sealed class NotPartialArena;

            [Arena(DirtyDecayMs = -5)]
            public sealed partial class NegativeDecayArena;

            public static class Program
            {
                public static void Main()
                {
                }
            }

            """);

        CliResult build = consumer.Build();
        _output.WriteLine(build.ToString());
        Assert.False(build.TimedOut, build.ToString());
        Assert.NotEqual(0, build.ExitCode);
        // Reported by the packed analyzer, with the consumer's file and line.
        Assert.Matches(@"Program\.cs\(\d+,\d+\): error ALLOC1001", build.Output);
        Assert.Matches(@"Program\.cs\(\d+,\d+\): error ALLOC1004", build.Output);
    }

    private static XDocument ReadNuspec(ZipArchive nupkg)
    {
        using Stream stream = nupkg.GetEntry($"{PackedRuntime.PackageId}.nuspec")!.Open();
        return XDocument.Load(stream);
    }

    private static string[] AssemblyReferences(ZipArchiveEntry assembly)
    {
        // PEReader needs a seekable stream; a zip entry is not one.
        using var copy = new MemoryStream();
        using (Stream stream = assembly.Open()) stream.CopyTo(copy);
        copy.Position = 0;
        using var pe = new PEReader(copy);
        MetadataReader reader = pe.GetMetadataReader();
        var names = new List<string>();
        foreach (AssemblyReferenceHandle handle in reader.AssemblyReferences)
            names.Add(reader.GetString(reader.GetAssemblyReference(handle).Name));
        return names.ToArray();
    }
}
