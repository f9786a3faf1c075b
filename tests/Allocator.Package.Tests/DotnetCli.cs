using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;

namespace Allocator.Package.Tests;

/// <summary>The outcome of one <c>dotnet</c> command; <see cref="ToString"/> is what a failed assertion shows.</summary>
public sealed record CliResult(string Command, int ExitCode, bool TimedOut, string Output, TimeSpan Elapsed)
{
    public bool Succeeded => !TimedOut && ExitCode == 0;

    public override string ToString() =>
        $"`{Command}` {(TimedOut ? "timed out" : $"exited {ExitCode}")} after {Elapsed.TotalSeconds:F1} s\n{Output}";
}

/// <summary>Runs the dotnet CLI in a child process, with a timeout and an environment cleaned of the test run's MSBuild state.</summary>
public static class DotnetCli
{
    /// <summary>
    /// Runs <c>dotnet <paramref name="arguments"/></c> in <paramref name="workingDirectory"/>; stdout and stderr are
    /// merged into <see cref="CliResult.Output"/>. After <paramref name="timeout"/> the whole process tree is killed.
    /// </summary>
    public static CliResult Run(string workingDirectory, IReadOnlyList<string> arguments, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(DotnetExecutable())
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);

        // `dotnet test` hands its own MSBuild settings to the test host (MSBuildSDKsPath, MSBuildExtensionsPath,
        // MSBUILD_EXE_PATH, ...). A nested build must find its SDK by itself, as it would from a terminal.
        var inherited = new List<string>();
        foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            string name = (string)variable.Key;
            if (name.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || name.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase))
                inherited.Add(name);
        }
        foreach (string name in inherited) start.Environment.Remove(name);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        start.Environment["DOTNET_GENERATE_ASPNET_CERTIFICATE"] = "false";
        // The assertions read MSBuild's summary ("0 Warning(s)"), which is localized.
        start.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";
        if (environment is not null)
        {
            foreach ((string name, string value) in environment) start.Environment[name] = value;
        }

        string command = "dotnet " + string.Join(' ', arguments);
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"`{command}` did not start.");
        // Both pipes are drained at once: a child that fills one of them must not stall.
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        bool exited = process.WaitForExit(timeout);
        if (!exited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        string output = stdout.GetAwaiter().GetResult() + stderr.GetAwaiter().GetResult();
        return new CliResult(command, exited ? process.ExitCode : -1, !exited, output, clock.Elapsed);
    }

    /// <summary>The same dotnet host that runs the tests when the SDK says which one it is, else the one on PATH.</summary>
    private static string DotnetExecutable()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return !string.IsNullOrEmpty(host) && File.Exists(host) ? host : "dotnet";
    }
}
