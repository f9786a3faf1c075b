using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Allocator.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Allocator.Tests.Stats;

public sealed unsafe class ObservabilityTests
{
    [Fact]
    public void MetricsReportEachLiveArenaByIndex()
    {
        using var arena = Arena.Create(new ArenaOptions { TimeProvider = new FakeTimeProvider() });
        void* p = arena.Allocate(100_000);
        Dictionary<string, long> seen = ArenaMeasurements.Read(arena);

        ArenaStats stats = arena.GetStats();
        Assert.Equal(stats.Active, seen["allocator.arena.active"]);
        Assert.Equal(stats.Mapped, seen["allocator.arena.mapped"]);
        Assert.True(seen["allocator.arena.allocated"] >= 100_000);
        Assert.True(seen["allocator.arena.allocations"] >= 1);
        Assert.Contains("allocator.arena.retained", seen.Keys);
        Assert.Contains("allocator.arena.purges", seen.Keys);
        arena.Free(p);
    }

    [Fact]
    public void StatsSerializeToJsonWithEveryFigure()
    {
        using var arena = Arena.Create(new ArenaOptions { TimeProvider = new FakeTimeProvider() });
        void* p = arena.Allocate(64);
        using JsonDocument doc = JsonDocument.Parse(arena.GetStats().ToJson());
        JsonElement root = doc.RootElement;
        Assert.Equal(arena.Index, root.GetProperty("index").GetUInt32());
        Assert.True(root.GetProperty("allocated").GetInt64() >= 64);
        Assert.True(root.GetProperty("pages").GetProperty("paMapped").GetInt64() > 0);
        Assert.Equal(arena.GetStats().Mapped, root.GetProperty("mapped").GetInt64());
        Assert.True(root.GetProperty("bins").GetArrayLength() > 30);
        arena.Free(p);
    }

    [Fact]
    public void TheAddressSpacePictureShowsEveryStateAndTheGuardPages()
    {
        using var arena = Arena.Create(new ArenaOptions { TimeProvider = new FakeTimeProvider(), GuardLargeEvery = 1, ThreadCache = false, DirtyDecayMs = -1 });
        void* kept = arena.Allocate(50_000);
        void* freed = arena.Allocate(20_000);
        void* small = arena.Allocate(100);
        arena.Free(freed);
        var regions = arena.GetAddressSpace();
        Assert.Contains(regions, r => r.Kind == AddressSpaceKind.Active && r.Start == (nuint)kept);
        Assert.Contains(regions, r => r.Kind == AddressSpaceKind.Dirty);
        Assert.Contains(regions, r => r.Kind == AddressSpaceKind.Retained);
        Assert.Contains(regions, r => r.Kind == AddressSpaceKind.Guard && r.Start == (nuint)kept - (nuint)System.Environment.SystemPageSize);

        var text = new System.IO.StringWriter();
        AddressSpacePicture.Write(arena, text);
        string svg = text.ToString();
        Assert.StartsWith("<svg", svg);
        Assert.Contains("Guard", svg);
        Assert.Contains($"Active 0x{(nuint)kept:x}", svg);
        System.Xml.Linq.XDocument.Parse(svg);
        arena.Free(kept);
        arena.Free(small);
    }
}
