using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace Allocator.Tests.Profiling;

/// <summary>allocator.arena.profile.live: the top sites' live bytes, tagged by arena and site.</summary>
public sealed unsafe class ProfileMetricsTests
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void* Holder(Arena arena, nuint size) => arena.Allocate(size);

    [Fact]
    public void TopSitesAreReportedWithTheirLiveBytes()
    {
        using Arena arena = Arena.Create(new ArenaOptions { ProfileSampleBytes = 1, BackgroundPurge = false });
        var blocks = new List<nint>();
        for (int i = 0; i < 7; i++) blocks.Add((nint)Holder(arena, 512));
        var sites = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "allocator.arena.profile.live") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            long index = -1;
            string? site = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "allocator.arena.index") index = (long)tag.Value!;
                if (tag.Key == "allocator.profile.site") site = (string)tag.Value!;
            }

            if (index == arena.Index && site != null) sites[site] = value;
        });
        listener.Start();
        listener.RecordObservableInstruments();

        KeyValuePair<string, long> holder = Assert.Single(sites);
        Assert.StartsWith("Allocator.Tests.Profiling.ProfileMetricsTests.Holder < ", holder.Key, StringComparison.Ordinal);
        Assert.Equal(7 * 512, holder.Value);
        foreach (nint p in blocks) arena.Free((void*)p);
    }
}
