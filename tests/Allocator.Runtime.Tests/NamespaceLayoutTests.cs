using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;

namespace Allocator.Tests;

/// <summary>
/// Namespaces follow folders (docs/architecture.md, "Namespaces and the public surface"):
/// <c>Allocator.Runtime/F/</c> is namespace <c>Allocator.F</c>, except the user's folders, which are
/// the root namespace.
/// </summary>
public sealed partial class NamespaceLayoutTests
{
    private static readonly HashSet<string> RootFolders = ["Arenas", "Attributes", "Stats"];

    [Fact]
    public void EveryRuntimeFileIsInItsFoldersNamespace()
    {
        string runtime = Path.Combine(RepositoryRoot(), "Allocator.Runtime");
        var wrong = new List<string>();
        int files = 0;
        foreach (string path in Directory.EnumerateFiles(runtime, "*.cs", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(runtime, path);
            string[] parts = relative.Split(Path.DirectorySeparatorChar);
            if (parts[0] is "bin" or "obj") continue;
            files++;
            string folder = parts.Length == 1 ? "" : string.Join('.', parts[..^1]);
            string expected = folder.Length == 0 || RootFolders.Contains(parts[0]) ? "Allocator" : "Allocator." + folder;
            foreach (Match m in NamespaceLine().Matches(File.ReadAllText(path)))
                if (m.Groups[1].Value != expected) wrong.Add($"{relative}: namespace {m.Groups[1].Value}, expected {expected}");
        }

        Assert.True(files > 100, $"only {files} runtime files found under {runtime}");
        Assert.Empty(wrong);
    }

    [Fact]
    public void NoNamespaceSharesItsNameWithATypeOfTheRuntime()
    {
        // A type named like a sibling namespace (a class Decay beside namespace Allocator.Decay) does
        // not bind from inside the runtime: the namespace wins the lookup.
        var namespaces = typeof(Arena).Assembly.GetTypes().Select(t => t.Namespace).OfType<string>()
            .Select(n => n.Split('.')[^1]).ToHashSet();
        string[] clashes = typeof(Arena).Assembly.GetTypes()
            .Where(t => !t.IsNested && namespaces.Contains(t.Name.Split('`')[0]))
            .Select(t => t.FullName!).ToArray();
        Assert.Empty(clashes);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Allocator.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no Allocator.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"^namespace ([\w.]+)", RegexOptions.Multiline)]
    private static partial Regex NamespaceLine();
}
