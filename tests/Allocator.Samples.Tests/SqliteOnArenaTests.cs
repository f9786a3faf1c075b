using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading.Tasks;

namespace Allocator.Samples.Tests;

/// <summary>
/// samples/SqliteOnArena run as a user runs it, in child processes: the same database job through
/// the arena and through glibc's malloc must read back the same data, and the arena must be sound.
/// </summary>
public sealed class SqliteOnArenaTests
{
    // Small enough for CI; still thousands of page-cache blocks, splits, merges and a VACUUM.
    private const string Rows = "10000";

    // A fault in native code is not the runtime's to turn into an exception: the kernel's signal ends
    // the process, which .NET reports as 128 + 11.
    private const int SigSegvExitCode = 128 + 11;

    [Fact]
    public void The_job_on_the_arena_matches_glibc_and_the_arena_validates()
    {
        var arena = RunSample("arena", Rows);
        var glibc = RunSample("glibc", Rows);

        Assert.True(arena.ExitCode == 0, arena.ToString());
        Assert.True(glibc.ExitCode == 0, glibc.ToString());
        Assert.Contains("memory from SqliteArena.Shared", arena.Output, StringComparison.Ordinal);
        Assert.Contains("memory from glibc malloc", glibc.Output, StringComparison.Ordinal);
        Assert.Equal("ok", Field(glibc, "integrity_check"));
        Assert.Equal("ok", Field(arena, "integrity_check"));
        Assert.Equal(Field(glibc, "rows left"), Field(arena, "rows left"));
        Assert.Equal(Field(glibc, "checksum"), Field(arena, "checksum"));
        Assert.Equal("ok", Field(arena, "validate"));
        // Every block SQLite took from the arena came back by sqlite3_shutdown.
        Assert.Equal("0 bytes", Field(arena, "allocated after sqlite3_shutdown and a purge"));
    }

    [Fact]
    public void SQLites_overflow_past_a_guarded_block_dies_of_SIGSEGV_and_goes_unnoticed_without_guards()
    {
        // sqlite3_blob_read copies 16,640 bytes into a 16,384-byte block from sqlite3_malloc.
        var guarded = RunSample("overflow", "arena-guarded");
        var control = RunSample("overflow", "arena");

        Assert.True(guarded.ExitCode == SigSegvExitCode, guarded.ToString());
        Assert.Equal("Guard", Field(guarded, "past its end"));
        Assert.DoesNotContain("overflow: not detected", guarded.Output, StringComparison.Ordinal);

        // The same write without guards lands in the arena's own address space and nothing notices.
        Assert.True(control.ExitCode == 0, control.ToString());
        Assert.NotEqual("Guard", Field(control, "past its end"));
        Assert.Contains("overflow: not detected", control.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_argument_prints_the_usage()
    {
        var r = RunSample("jemalloc");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("usage: SqliteOnArena", r.Error, StringComparison.Ordinal);
    }

    private static string Field(SampleRun run, string name)
    {
        string? line = run.Output.Split('\n').FirstOrDefault(l => l.StartsWith(name + ": ", StringComparison.Ordinal));
        Assert.True(line is not null, $"no '{name}:' line\n{run}");
        return line![(name.Length + 2)..].Trim();
    }

    private sealed record SampleRun(int ExitCode, string Output, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
    }

    private static SampleRun RunSample(params string[] args)
    {
        var start = new ProcessStartInfo(Dotnet())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(SamplePath());
        foreach (string a in args) start.ArgumentList.Add(a);
        start.Environment["DOTNET_DbgEnableMiniDump"] = "0";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("the sample did not start");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        Task.WaitAll(output, error);
        return new SampleRun(process.ExitCode, output.Result, error.Result);
    }

    // The sample's build output for this test run's configuration and framework.
    private static string SamplePath()
    {
        string samples = typeof(SqliteOnArenaTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(static a => a.Key == "SamplesDirectory").Value!;
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string path = Path.Combine(samples, "SqliteOnArena", "bin", here.Parent!.Name, here.Name, "SqliteOnArena.dll");
        if (!File.Exists(path)) throw new FileNotFoundException("samples/SqliteOnArena is not built; build Allocator.sln first.", path);
        return path;
    }

    private static string Dotnet()
    {
        string? self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return string.IsNullOrEmpty(host) ? "dotnet" : host;
    }
}
