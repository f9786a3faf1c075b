using System.Collections.Generic;
using System.Diagnostics.Metrics;

namespace Allocator.Tests.Infrastructure;

/// <summary>Reads the observable instruments of <see cref="AllocatorMetrics"/> once, as an exporter would.</summary>
public static class ArenaMeasurements
{
    /// <summary>The latest value of every long-valued instrument tagged with <paramref name="arena"/>'s index, by instrument name.</summary>
    public static Dictionary<string, long> Read(Arena arena)
    {
        var seen = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == AllocatorMetrics.MeterName) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "allocator.arena.index" && (long)tag.Value! == arena.Index) seen[instrument.Name] = value;
            }
        });
        // Creating the meter publishes its instruments to the listener above.
        _ = AllocatorMetrics.Meter;
        listener.Start();
        listener.RecordObservableInstruments();
        return seen;
    }
}
