using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Threading;

namespace Allocator;

/// <summary>
/// <see cref="System.Diagnostics.Metrics"/> instruments for every live arena, tagged with
/// <c>allocator.arena.index</c>; visible to <c>dotnet-counters monitor --counters Allocator</c> and
/// to OpenTelemetry. Names follow OpenTelemetry conventions (dotted, lower case, UCUM units).
/// </summary>
/// <remarks>Observable instruments: nothing is measured until a listener asks.</remarks>
public static class AllocatorMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Allocator";

    private static Meter? s_meter;

    /// <summary>
    /// The meter; created with the first arena, unless the application turned metrics off with the
    /// runtime's feature switch (<c>&lt;MetricsSupport&gt;false&lt;/MetricsSupport&gt;</c>), in which case it
    /// is created when this property is first read.
    /// </summary>
    public static Meter Meter => EnsureCreated();

    // Read without touching a metrics type: loading System.Diagnostics.DiagnosticSource brings ICU
    // with it, megabytes of resident memory, which an application that switched metrics off
    // should not pay for.
    internal static bool CreatedWithArenas =>
        !System.AppContext.TryGetSwitch("System.Diagnostics.Metrics.Meter.IsSupported", out bool supported) || supported;

    // Kept out of line, so that compiling the caller does not load the meter's types.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    internal static void CreateForArenas() => EnsureCreated();

    internal static Meter EnsureCreated()
    {
        Meter? meter = Volatile.Read(ref s_meter);
        if (meter != null) return meter;
        meter = new Meter(MeterName, "1.0");
        if (Interlocked.CompareExchange(ref s_meter, meter, null) != null)
        {
            meter.Dispose();
            return s_meter!;
        }

        Gauge(meter, "allocator.arena.mapped", "By", "Bytes mapped: active, dirty and muzzy pages plus metadata.", s => s.Mapped);
        Gauge(meter, "allocator.arena.active", "By", "Bytes in active extents (slabs and large allocations).", s => s.Active);
        Gauge(meter, "allocator.arena.allocated", "By", "Bytes allocated to the application (thread caches included).", s => s.Allocated);
        Gauge(meter, "allocator.arena.dirty", "By", "Bytes of freed pages not yet purged.", s => s.Dirty);
        Gauge(meter, "allocator.arena.muzzy", "By", "Bytes of lazily purged pages.", s => s.Muzzy);
        Gauge(meter, "allocator.arena.retained", "By", "Bytes of address space kept for reuse, not backed by memory.", s => s.Retained);
        Gauge(meter, "allocator.arena.resident", "By", "Bytes that may occupy physical memory.", s => s.Resident);
        Counter(meter, "allocator.arena.allocations", "{allocation}", "Regions and large extents handed out by bins and the large path.", s =>
        {
            long n = 0;
            foreach (BinStats b in s.Bins) n += b.Allocations;
            foreach (LargeClassStats l in s.LargeClasses) n += l.Allocations;
            return n;
        });
        Counter(meter, "allocator.arena.purges", "{purge}", "Purge passes over dirty and muzzy pages.", s => s.Pages.DirtyPurges + s.Pages.MuzzyPurges);
        Counter(meter, "allocator.arena.purged", "By", "Bytes purged from dirty and muzzy pages.",
            s => (s.Pages.DirtyPurgedPages + s.Pages.MuzzyPurgedPages) * System.Environment.SystemPageSize);
        Gauge(meter, "allocator.arena.guard.mappings", "{mapping}", "Memory mappings the arena's guard pages may cost (two per guard page).", s => s.Pages.GuardMappings);
        Counter(meter, "allocator.arena.guard.skipped_budget", "{extent}",
            "Extents sampled for guard pages but served unguarded because the guard-mapping budget was spent.", s => s.Pages.GuardsSkippedForBudget);
        Counter(meter, "allocator.arena.guard.protect_refusals", "{call}", "Protection calls the OS refused while guarding or unguarding.",
            s => s.Pages.GuardProtectRefusals);

        Gauge(meter, "allocator.arena.hugepage.pageslabs", "{pageslab}", "2 MiB pageslabs of the hugepage allocator.", s => s.Pages.Pageslabs);
        Gauge(meter, "allocator.arena.hugepage.huge_pageslabs", "{pageslab}", "Pageslabs believed backed by a huge page.", s => s.Pages.HugePageslabs);
        Gauge(meter, "allocator.arena.hugepage.active", "By", "Bytes of pageslabs handed out.", s => s.Pages.HpaActive);
        Gauge(meter, "allocator.arena.hugepage.dirty", "By", "Bytes freed inside pageslabs, not yet purged.", s => s.Pages.HpaDirty);
        Gauge(meter, "allocator.arena.hugepage.anon_huge_pages", "By", "Bytes of pageslabs the kernel backs with huge pages (AnonHugePages).", s => s.Pages.AnonHugePages);
        Counter(meter, "allocator.arena.hugepage.hugifies", "{pageslab}", "Pageslabs hugified.", s => s.Pages.Hugifies);
        Counter(meter, "allocator.arena.hugepage.purges", "{purge}", "Purge passes over pageslabs.", s => s.Pages.HpaPurgePasses);

        meter.CreateObservableGauge("allocator.arena.profile.live", ObserveTopSites, "By",
            $"Estimated live bytes of the {TopSites} sampled allocation sites holding the most, tagged with the site's innermost frames (profiling arenas only).");
        return meter;
    }

    /// <summary>How many sites per profiling arena <c>allocator.arena.profile.live</c> reports.</summary>
    public const int TopSites = 10;

    private static IEnumerable<Measurement<long>> ObserveTopSites()
    {
        var measurements = new List<Measurement<long>>();
        foreach (Arena arena in Arena.LiveArenas())
        {
            Profiling.HeapProfile profile;
            try
            {
                profile = arena.GetHeapProfile();
            }
            catch (System.ObjectDisposedException)
            {
                continue;
            }

            int reported = 0;
            foreach (Profiling.HeapProfileSite site in profile.Sites)
            {
                if (reported++ == TopSites || site.LiveBytes <= 0) break;
                measurements.Add(new Measurement<long>(site.LiveBytes,
                    new KeyValuePair<string, object?>("allocator.arena.index", (long)arena.Index),
                    new KeyValuePair<string, object?>("allocator.profile.site", SiteName(site))));
            }
        }

        return measurements;
    }

    // The allocating frame and its two callers, enough to tell sites apart on a dashboard.
    private static string SiteName(Profiling.HeapProfileSite site)
    {
        int n = System.Math.Min(3, site.Frames.Count);
        var frames = new string[n];
        for (int i = 0; i < n; i++) frames[i] = site.Frames[i];
        return n == 0 ? "[unknown]" : string.Join(" < ", frames);
    }

    private static void Gauge(Meter meter, string name, string unit, string description, System.Func<ArenaStats, long> read) =>
        meter.CreateObservableGauge(name, () => Observe(read), unit, description);

    private static void Counter(Meter meter, string name, string unit, string description, System.Func<ArenaStats, long> read) =>
        meter.CreateObservableCounter(name, () => Observe(read), unit, description);

    private static IEnumerable<Measurement<long>> Observe(System.Func<ArenaStats, long> read)
    {
        var measurements = new List<Measurement<long>>();
        foreach (Arena arena in Arena.LiveArenas())
        {
            ArenaStats stats;
            try
            {
                stats = arena.GetStats();
            }
            catch (System.ObjectDisposedException)
            {
                continue;
            }

            measurements.Add(new Measurement<long>(read(stats), new KeyValuePair<string, object?>("allocator.arena.index", (long)arena.Index)));
        }

        return measurements;
    }
}
