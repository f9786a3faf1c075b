using System;
using System.Collections.Generic;
using System.IO;

namespace Allocator.Package.Tests;

/// <summary>
/// A fresh console project outside the repository that references the packed Allocator.Runtime from the local feed,
/// the way a user's project would: PackageReference only, warnings as errors, unsafe code allowed.
/// </summary>
public sealed class ConsumerProject
{
    public static readonly TimeSpan BuildTimeout = TimeSpan.FromSeconds(90);

    public static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(30);

    private readonly string _packages;

    /// <summary>Writes the project into a new folder below the package's temporary root, with <paramref name="program"/> as Program.cs.</summary>
    public ConsumerProject(PackedRuntime package, string name, string program)
    {
        Folder = package.NewFolder(name);
        // Its own package folder (beside the project, not below it, where the default globs would look): the test
        // version never reaches the user's global packages folder, and the package really comes from the feed.
        _packages = package.NewFolder(name + "-packages");

        // Empty files stop MSBuild and NuGet from looking further up for a Directory.Build.props or a central
        // package management file that is not the consumer's.
        File.WriteAllText(Path.Combine(Folder, "Directory.Build.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(Folder, "Directory.Build.targets"), "<Project />\n");
        File.WriteAllText(Path.Combine(Folder, "Directory.Packages.props"), "<Project />\n");
        // The local feed serves Allocator.Runtime and nothing else; anything else (a console project on net10.0
        // needs nothing today, the SDK brings its packs) comes from the normal feed. With the mapping, NuGet asks
        // nuget.org only for packages it would need from there, so the restore works without the network today.
        File.WriteAllText(Path.Combine(Folder, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="allocator-local" value="{package.Feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="allocator-local">
                  <package pattern="{PackedRuntime.PackageId}" />
                </packageSource>
                <packageSource key="nuget.org">
                  <package pattern="*" />
                </packageSource>
              </packageSourceMapping>
            </configuration>

            """);
        // NuGetAudit off: the audit would fetch vulnerability data from nuget.org, and a failure to reach it is a
        // warning (NU1900), so an error here, which has nothing to do with the package under test.
        File.WriteAllText(Path.Combine(Folder, $"{name}.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>disable</ImplicitUsings>
                <AllowUnsafeBlocks>true</AllowUnsafeBlocks>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <NuGetAudit>false</NuGetAudit>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="{PackedRuntime.PackageId}" Version="[{package.Version}]" />
              </ItemGroup>
            </Project>

            """);
        File.WriteAllText(Path.Combine(Folder, "Program.cs"), program);
        AssemblyPath = Path.Combine(Folder, "bin", "Debug", "net10.0", $"{name}.dll");
    }

    public string Folder { get; }

    /// <summary>Where <see cref="Build"/> puts the program.</summary>
    public string AssemblyPath { get; }

    /// <summary>Restores and builds (Debug), without leaving MSBuild nodes behind.</summary>
    public CliResult Build() =>
        DotnetCli.Run(Folder, ["build", "-nodeReuse:false"], BuildTimeout, PackagesFolder());

    /// <summary>Runs the built program.</summary>
    public CliResult Run() => DotnetCli.Run(Folder, [AssemblyPath], RunTimeout);

    private Dictionary<string, string> PackagesFolder() => new() { ["NUGET_PACKAGES"] = _packages };
}
