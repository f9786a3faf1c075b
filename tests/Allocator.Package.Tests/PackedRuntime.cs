using System;
using System.IO;
using System.Linq;
using System.Reflection;

namespace Allocator.Package.Tests;

/// <summary>
/// Packs Allocator.Runtime once for all tests of a class: <c>dotnet pack -c Release</c> with a version no other run has
/// used, into a local folder feed below a temporary root that is deleted afterwards.
/// </summary>
/// <remarks>
/// Why a copy: <c>dotnet test Allocator.sln</c> builds the test projects in parallel while this one already runs, and
/// most of them build Allocator.Runtime and the Roslyn projects too. Packing in place would restore and write the same
/// obj/ folders (project.assets.json is shared by Debug and Release) under another build's feet. The four projects
/// and the repository-wide files are copied without bin/ and obj/ into the temporary root instead, and packed there:
/// nothing is shared with the repository's build, the package is built from the sources exactly as a release would,
/// and no earlier build output is required. The price is one Release build of four projects inside the test.
/// </remarks>
public sealed class PackedRuntime : IDisposable
{
    public const string PackageId = "Allocator.Runtime";

    /// <summary>The projects the package is built from: the runtime and everything it carries.</summary>
    private static readonly string[] Projects =
        ["Allocator.Runtime", "Allocator.Generators", "Allocator.Analyzers", "Allocator.Analyzers.CodeFixes"];

    public static readonly TimeSpan PackTimeout = TimeSpan.FromSeconds(150);

    public PackedRuntime()
    {
        // A prerelease version unique to this run: a package folder keeps the first copy of a version forever.
        Version = $"0.1.0-test.t{Guid.NewGuid():N}";
        Root = Directory.CreateTempSubdirectory("allocator-package-").FullName;
        Feed = Path.Combine(Root, "feed");
        try
        {
            string sources = Path.Combine(Root, "src");
            CopySources(RepositoryRoot(), sources);
            Pack = DotnetCli.Run(sources,
                ["pack", PackageId, "-c", "Release", "-o", Feed, $"-p:Version={Version}", "-nodeReuse:false"],
                PackTimeout);
            if (!Pack.Succeeded) throw new InvalidOperationException($"Packing {PackageId} failed:\n{Pack}");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The package version, e.g. 0.1.0-test.t0123...</summary>
    public string Version { get; }

    /// <summary>The temporary folder holding the copied sources, the feed and the consumers; deleted by <see cref="Dispose"/>.</summary>
    public string Root { get; }

    /// <summary>The local folder feed that holds the .nupkg and the .snupkg.</summary>
    public string Feed { get; }

    /// <summary>The pack command and its output.</summary>
    public CliResult Pack { get; }

    public string PackagePath => Path.Combine(Feed, $"{PackageId}.{Version}.nupkg");

    public string SymbolPackagePath => Path.Combine(Feed, $"{PackageId}.{Version}.snupkg");

    /// <summary>A new empty folder below <see cref="Root"/>.</summary>
    public string NewFolder(string name) => Directory.CreateDirectory(Path.Combine(Root, name)).FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A child that still holds a file (a killed build) must not turn a passing run into a failure.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static string RepositoryRoot()
    {
        string? root = typeof(PackedRuntime).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(a => a.Key == "RepositoryRoot")?.Value;
        if (root is null || !File.Exists(Path.Combine(root, "Directory.Build.props")))
            throw new InvalidOperationException($"The repository root was not found (RepositoryRoot metadata: '{root}').");
        return root;
    }

    /// <summary>The repository's top-level files (props, global.json, README, LICENSE, .editorconfig) and the packed projects.</summary>
    private static void CopySources(string repository, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (string file in Directory.EnumerateFiles(repository))
            File.Copy(file, Path.Combine(destination, Path.GetFileName(file)));
        foreach (string project in Projects)
            CopyTree(Path.Combine(repository, project), Path.Combine(destination, project));
    }

    private static void CopyTree(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (string file in Directory.EnumerateFiles(source))
            File.Copy(file, Path.Combine(destination, Path.GetFileName(file)));
        foreach (string directory in Directory.EnumerateDirectories(source))
        {
            string name = Path.GetFileName(directory);
            if (name is "bin" or "obj") continue;
            CopyTree(directory, Path.Combine(destination, name));
        }
    }
}
