using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using Allocator.Profiling;

namespace Allocator.Tests.Profiling;

/// <summary>Leak reports: Dispose of an arena with blocks still allocated names them by site, exactly.</summary>
public sealed unsafe class LeakReportTests
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static List<nint> Forgets(Arena arena, int count, nuint size)
    {
        var blocks = new List<nint>();
        for (int i = 0; i < count; i++) blocks.Add((nint)arena.Allocate(size));
        return blocks;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static List<nint> AlsoForgets(Arena arena, int count, nuint size)
    {
        var blocks = new List<nint>();
        for (int i = 0; i < count; i++) blocks.Add((nint)arena.Allocate(size));
        return blocks;
    }

    [Fact]
    public void DisposeReportsEveryLiveBlockBySite()
    {
        Arena arena = Arena.Create(new ArenaOptions { LeakReport = true, BackgroundPurge = false });
        List<nint> a = Forgets(arena, 10, 40);
        List<nint> b = AlsoForgets(arena, 3, 20_000);
        foreach (nint p in a.Take(4)) arena.Free((void*)p);
        foreach (nint p in b.Take(1)) arena.FreeSized((void*)p, 20_000);
        var reports = new List<LeakReport>();
        arena.LeaksFound += (sender, report) =>
        {
            Assert.Same(arena, sender);
            reports.Add(report);
        };
        arena.Dispose();

        LeakReport leaks = Assert.Single(reports);
        Assert.Equal(6 + 2, leaks.LeakedBlocks);
        Assert.Equal(6 * 48 + 2 * 20_480, leaks.LeakedBytes);
        Assert.Equal(2, leaks.Sites.Count);
        HeapProfileSite forgets = leaks.Sites.Single(s => s.Frames[0].EndsWith("LeakReportTests.Forgets", StringComparison.Ordinal));
        Assert.Equal(6, forgets.LiveCount);
        Assert.Equal(6 * 48, forgets.LiveBytes);
        string text = leaks.ToText();
        Assert.Contains("8 blocks (41248 bytes)", text, StringComparison.Ordinal);
        Assert.Contains("    Allocator.Tests.Profiling.LeakReportTests.AlsoForgets\n", text, StringComparison.Ordinal);
        Assert.Contains("  6 blocks, 288 bytes, allocated at\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AnArenaWithNothingLiveReportsNothing()
    {
        Arena arena = Arena.Create(new ArenaOptions { LeakReport = true, BackgroundPurge = false });
        foreach (nint p in Forgets(arena, 5, 100)) arena.Free((void*)p);
        arena.Reset();
        Forgets(arena, 5, 100);
        arena.Reset();
        int reports = 0;
        arena.LeaksFound += (_, _) => reports++;
        arena.Dispose();
        Assert.Equal(0, reports);
    }

    [Fact]
    public void WithoutAHandlerTheTextGoesToStandardError()
    {
        TextWriter original = Console.Error;
        var captured = new StringWriter();
        Console.SetError(captured);
        try
        {
            Arena arena = Arena.Create(new ArenaOptions { LeakReport = true, BackgroundPurge = false });
            Forgets(arena, 2, 8);
            arena.Dispose();
        }
        finally
        {
            Console.SetError(original);
        }

        Assert.Contains("2 blocks (16 bytes) still allocated", captured.ToString(), StringComparison.Ordinal);
        Assert.Contains("LeakReportTests.Forgets", captured.ToString(), StringComparison.Ordinal);
    }
}
