using System;
using System.Collections.Generic;
using Allocator.PageAllocators;
using Allocator.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Allocator.Tests.Hpa;

/// <summary>The hugepage allocator's figures in the text report, the JSON and the metrics.</summary>
public sealed unsafe class HugePageStatsTests
{
    [Fact]
    public void Text_json_and_metrics_carry_the_hugepage_figures()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var arena = Arena.Create(new ArenaOptions { HugePages = HugePageMode.Lazy, ThreadCache = false, TimeProvider = new FakeTimeProvider() });
        void* p = arena.Allocate(16 << 10);
        ArenaStats stats = arena.GetStats();
        PageAllocatorStats s = stats.Pages;
        Assert.Equal(1, s.Pageslabs);
        Assert.Equal(16 << 10, s.HpaActive);
        Assert.Equal(s.PaMapped + (2L << 20) + s.BaseMapped, s.Mapped);

        string text = StatsPrinter.ToText(stats);
        Assert.Contains("hugepages:", text);
        Assert.Contains("pageslabs 1,", text);

        string json = StatsJson.ToJson(stats);
        Assert.Contains("\"pageslabs\": 1", json);
        Assert.Contains("\"hpaActive\": 16384", json);
        Assert.Contains("\"anonHugePages\"", json);

        Dictionary<string, long> seen = ArenaMeasurements.Read(arena);
        Assert.Equal(1, seen["allocator.arena.hugepage.pageslabs"]);
        Assert.Equal(16 << 10, seen["allocator.arena.hugepage.active"]);
        Assert.Contains("allocator.arena.hugepage.anon_huge_pages", seen.Keys);
        arena.Free(p);
    }

    [Fact]
    public void An_off_arena_prints_no_hugepage_line()
    {
        using var arena = Arena.Create(new ArenaOptions { TimeProvider = new FakeTimeProvider() });
        Assert.DoesNotContain("hugepages:", StatsPrinter.ToText(arena.GetStats()));
        Assert.Equal(0, arena.GetStats().Pages.AnonHugePages);
    }
}
