using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;

namespace Allocator.Bench.Harness;

/// <summary>
/// Debian's libjemalloc.so.2 uses initial-exec TLS and, dlopen()ed into a .NET process, finds no
/// static TLS left unless the dynamic loader reserved more at process start. The loader reads
/// that only from the environment at exec time, so the harness re-executes itself with it.
/// </summary>
public static class Tunables
{
    public const string Name = "GLIBC_TUNABLES";
    public const string Value = "glibc.rtld.optional_static_tls=16384";
    private const string Key = "glibc.rtld.optional_static_tls";

    // Set in the child so that a loader which ignores the tunable cannot cause an exec loop.
    private const string GuardName = "ALLOCATOR_BENCH_REEXECUTED";

    /// <summary>Whether this process started with the tunable.</summary>
    public static bool IsSet => (Environment.GetEnvironmentVariable(Name) ?? "").Contains(Key, StringComparison.Ordinal);

    /// <summary>On Linux without the tunable, runs this program again with it and returns the
    /// child's exit code; otherwise null (carry on in this process).</summary>
    public static int? ReExecuteIfNeeded(IReadOnlyList<string> args)
    {
        if (!OperatingSystem.IsLinux() || IsSet || Environment.GetEnvironmentVariable(GuardName) == "1")
            return null;
        ProcessStartInfo start = Self(args);
        string? existing = Environment.GetEnvironmentVariable(Name);
        start.Environment[Name] = string.IsNullOrEmpty(existing) ? Value : existing + ":" + Value;
        start.Environment[GuardName] = "1";
        using Process child = Process.Start(start) ?? throw new InvalidOperationException("Could not re-execute the harness.");
        child.WaitForExit();
        return child.ExitCode;
    }

    /// <summary>A start description for this same program with <paramref name="args"/>, whether it
    /// runs through its apphost (dotnet run) or as <c>dotnet Allocator.Bench.dll</c>.</summary>
    public static ProcessStartInfo Self(IEnumerable<string> args)
    {
        string path = Environment.ProcessPath ?? throw new InvalidOperationException("The process path is unknown.");
        var start = new ProcessStartInfo(path) { UseShellExecute = false };
        if (string.Equals(Path.GetFileNameWithoutExtension(path), "dotnet", StringComparison.Ordinal))
            start.ArgumentList.Add(typeof(Tunables).Assembly.Location);
        foreach (string a in args)
            start.ArgumentList.Add(a);
        return start;
    }
}
