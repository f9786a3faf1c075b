using System;
using System.Collections.Generic;
using System.IO;

namespace Allocator.Profiling;

/// <summary>
/// A snapshot of an arena's sampled heap (jemalloc's heap profile): the sites with live or past
/// samples, their unbiased estimates, and writers for pprof and folded stacks.
/// </summary>
public sealed class HeapProfile
{
    internal HeapProfile(uint arenaIndex, long sampleInterval, IReadOnlyList<HeapProfileSite> sites, DateTimeOffset time)
    {
        ArenaIndex = arenaIndex;
        SampleInterval = sampleInterval;
        Sites = sites;
        Time = time;
        foreach (HeapProfileSite s in sites)
        {
            LiveBytes += s.LiveBytes;
            LiveCount += s.LiveCount;
            AllocatedBytes += s.AllocatedBytes;
            AllocatedCount += s.AllocatedCount;
        }
    }

    /// <summary>The index of the arena profiled.</summary>
    public uint ArenaIndex { get; }

    /// <summary>The mean bytes between samples; 0 when the arena does not profile (the profile is then empty).</summary>
    public long SampleInterval { get; }

    /// <summary>Every site sampled since the arena was created, most live bytes first.</summary>
    public IReadOnlyList<HeapProfileSite> Sites { get; }

    /// <summary>When the snapshot was taken.</summary>
    public DateTimeOffset Time { get; }

    /// <summary>Estimated usable bytes allocated and not freed, over all sites.</summary>
    public long LiveBytes { get; }

    /// <summary>Estimated blocks allocated and not freed, over all sites.</summary>
    public long LiveCount { get; }

    /// <summary>Estimated usable bytes allocated since the arena was created (cumulative), over all sites.</summary>
    public long AllocatedBytes { get; }

    /// <summary>Estimated blocks allocated since the arena was created, over all sites.</summary>
    public long AllocatedCount { get; }

    /// <summary>
    /// Writes the profile in pprof's format (gzipped protobuf), which <c>go tool pprof</c>, Grafana
    /// and Pyroscope read: sample types alloc_objects, alloc_space, inuse_objects and inuse_space.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    public void WritePprof(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        PprofWriter.Write(this, stream);
    }

    /// <summary>
    /// Writes the live bytes as folded stacks, one line per site: frames outermost first separated by
    /// semicolons, a space, the estimated live bytes (the input of flamegraph.pl and speedscope).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="writer"/> is null.</exception>
    public void WriteFolded(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        FoldedWriter.Write(this, writer);
    }
}
