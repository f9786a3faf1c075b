using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Reflection;
using System.Threading.Tasks;

namespace Allocator.Tests.Infrastructure;

/// <summary>How a child process ended.</summary>
/// <param name="ExitCode">The exit status; 128 + N when signal N killed it (.NET reports signals that way).</param>
/// <param name="TimedOut">The child outlived the timeout and was killed; the other fields describe the killed process.</param>
public sealed record ChildResult(int ExitCode, string StandardOutput, string StandardError, bool TimedOut, TimeSpan Elapsed)
{
    /// <summary>SIGABRT: what the runtime raises after a fatal AccessViolationException (a guard-page hit).</summary>
    public const int SigAbrtExitCode = 128 + 6;

    /// <summary>The signal that killed the child, or null when it exited by itself.</summary>
    public int? Signal => !TimedOut && ExitCode > 128 && ExitCode < 128 + 65 ? ExitCode - 128 : null;

    public override string ToString() =>
        $"exit {ExitCode}{(TimedOut ? " (timed out)" : "")} after {Elapsed.TotalMilliseconds:F0} ms\n--- stdout\n{StandardOutput}\n--- stderr\n{StandardError}";
}

/// <summary>
/// Runs a static method of this test assembly in a child process (through the
/// Allocator.Runtime.Tests.Host console program) and reports how the process ended. For faults
/// .NET cannot catch: a guard-page hit aborts the whole process, so it must not be this one.
/// </summary>
/// <remarks>
/// The method must be static, take nothing or a <c>string[]</c>, and return void (exit 0) or int
/// (the exit code). If it throws, the host prints the exception to stderr and exits with
/// <see cref="ScenarioThrewExitCode"/>.
/// </remarks>
public static class ChildProcess
{
    public const int ScenarioThrewExitCode = 70;

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    public static ChildResult Run(Action scenario, TimeSpan? timeout = null) => Run(scenario.Method, Array.Empty<string>(), timeout);

    public static ChildResult Run(Func<int> scenario, TimeSpan? timeout = null) => Run(scenario.Method, Array.Empty<string>(), timeout);

    public static ChildResult Run(Func<string[], int> scenario, string[] args, TimeSpan? timeout = null) => Run(scenario.Method, args, timeout);

    /// <summary>Runs <paramref name="method"/> with <paramref name="args"/> in a child and waits for it (killing it after <paramref name="timeout"/>).</summary>
    public static ChildResult Run(MethodInfo method, IReadOnlyList<string> args, TimeSpan? timeout = null)
    {
        if (!method.IsStatic || method.DeclaringType is null || method.IsGenericMethod)
            throw new ArgumentException("A child scenario must be a static, non-generic method of a named type (not a lambda).", nameof(method));
        // Lambdas compile to methods of hidden closure types the host could call but the reader could not name; refuse them.
        if (method.DeclaringType.FullName is not string typeName || typeName.Contains('<'))
            throw new ArgumentException("A child scenario must be a named static method, not a lambda.", nameof(method));

        var start = new ProcessStartInfo(DotnetPath())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(HostPath());
        start.ArgumentList.Add(method.DeclaringType.Assembly.Location);
        start.ArgumentList.Add(typeName);
        start.ArgumentList.Add(method.Name);
        foreach (string a in args) start.ArgumentList.Add(a);
        // A crash must not leave a dump behind; the test only needs the exit status and stderr.
        start.Environment["DOTNET_DbgEnableMiniDump"] = "0";

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException("The child process did not start.");
        // Read both pipes concurrently so a child filling one of them cannot block on it.
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        bool exited = process.WaitForExit(timeout ?? DefaultTimeout);
        if (!exited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        // Both pipes close when the child dies (a grandchild could hold them; the host starts none).
        Task.WaitAll(stdout, stderr);
        return new ChildResult(process.ExitCode, stdout.Result, stderr.Result, !exited, clock.Elapsed);
    }

    /// <summary>The host program, built beside this test project (the test project references it for build order).</summary>
    public static string HostPath()
    {
        string? overridePath = Environment.GetEnvironmentVariable("ALLOCATOR_TEST_HOST");
        if (!string.IsNullOrEmpty(overridePath)) return overridePath;

        const string Host = "Allocator.Runtime.Tests.Host";
        // This assembly runs from tests/Allocator.Runtime.Tests/bin/<configuration>/<framework>/.
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string framework = here.Name, configuration = here.Parent!.Name;
        DirectoryInfo project = here.Parent!.Parent!.Parent!;
        string path = Path.Combine(project.Parent!.FullName, Host, "bin", configuration, framework, Host + ".dll");
        if (!File.Exists(path))
            throw new FileNotFoundException($"The child-process host is not built; build Allocator.sln (or {Host}) first.", path);
        return path;
    }

    // The dotnet muxer running this process, so the child uses the same runtime.
    private static string DotnetPath()
    {
        string? self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return string.IsNullOrEmpty(host) ? "dotnet" : host;
    }
}
