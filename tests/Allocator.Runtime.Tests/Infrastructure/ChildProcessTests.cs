using System;
using System.Threading;
using Allocator.Os;

namespace Allocator.Tests.Infrastructure;

/// <summary>The child-process harness: a guard-page hit kills the child with SIGABRT; ordinary endings are reported as they are.</summary>
public unsafe class ChildProcessTests
{
    private const string BeforeWrite = "guard page armed";
    private const string AfterWrite = "write past the guard survived";

    /// <summary>Child scenario: one page of data followed by a PROT_NONE page, then a write one byte past the data.</summary>
    internal static int WritePastProtectedPage()
    {
        nuint page = Pages.PageSize;
        byte* p = (byte*)Pages.Map(null, 2 * page, page, commit: true);
        if (p == null || !Pages.Protect(p + page, page)) return 2;
        p[page - 1] = 1;
        Console.WriteLine(BeforeWrite);
        Console.Out.Flush();
        p[page] = 1;
        Console.WriteLine(AfterWrite);
        return 0;
    }

    /// <summary>Child scenario: the same mapping with the guard lifted, so the same write is legal.</summary>
    internal static void WriteIntoUnprotectedPage()
    {
        nuint page = Pages.PageSize;
        byte* p = (byte*)Pages.Map(null, 2 * page, page, commit: true);
        if (p == null || !Pages.Protect(p + page, page) || !Pages.Unprotect(p + page, page))
            throw new InvalidOperationException("mapping failed");
        p[page] = 1;
        Console.WriteLine(AfterWrite);
    }

    internal static int ExitWithArgument(string[] args) => int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture);

    internal static void Throw() => throw new InvalidOperationException("scenario failure marker");

    internal static void Hang() => Thread.Sleep(Timeout.Infinite);

    [Fact]
    public void A_write_into_a_protected_page_kills_the_child_with_SIGABRT()
    {
        ChildResult r = ChildProcess.Run(WritePastProtectedPage);

        Assert.False(r.TimedOut, r.ToString());
        Assert.Equal(ChildResult.SigAbrtExitCode, r.ExitCode);
        Assert.Equal(6, r.Signal);
        Assert.Contains(BeforeWrite, r.StandardOutput);
        Assert.DoesNotContain(AfterWrite, r.StandardOutput);
        Assert.Contains("AccessViolation", r.StandardError);
    }

    [Fact]
    public void The_same_write_without_the_guard_exits_zero()
    {
        ChildResult r = ChildProcess.Run(WriteIntoUnprotectedPage);

        Assert.Equal(0, r.ExitCode);
        Assert.Null(r.Signal);
        Assert.Contains(AfterWrite, r.StandardOutput);
        Assert.DoesNotContain("AccessViolation", r.StandardError);
    }

    [Fact]
    public void The_scenario_return_value_is_the_exit_code_and_arguments_reach_it()
    {
        ChildResult r = ChildProcess.Run(ExitWithArgument, new[] { "42" });

        Assert.Equal(42, r.ExitCode);
        Assert.False(r.TimedOut);
    }

    [Fact]
    public void A_scenario_exception_is_reported_on_stderr_with_its_own_exit_code()
    {
        ChildResult r = ChildProcess.Run(Throw);

        Assert.Equal(ChildProcess.ScenarioThrewExitCode, r.ExitCode);
        Assert.Contains("scenario failure marker", r.StandardError);
    }

    [Fact]
    public void A_child_that_outlives_the_timeout_is_killed_and_reported()
    {
        ChildResult r = ChildProcess.Run(Hang, TimeSpan.FromSeconds(2));

        Assert.True(r.TimedOut);
        Assert.Null(r.Signal);
        Assert.True(r.Elapsed < TimeSpan.FromSeconds(30), r.ToString());
    }

    [Fact]
    public void Lambdas_are_refused_because_the_host_cannot_name_them()
    {
        Assert.Throws<ArgumentException>(() => ChildProcess.Run(() => { }));
    }
}
