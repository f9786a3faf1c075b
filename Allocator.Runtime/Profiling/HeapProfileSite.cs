using System.Collections.Generic;

namespace Allocator.Profiling;

/// <summary>
/// One allocation site of a <see cref="HeapProfile"/>: a stack and the unbiased estimates of what
/// its sampled blocks stand for (each sample of s usable bytes counts 1/p blocks, p = 1 - exp(-s / interval)).
/// </summary>
public sealed class HeapProfileSite
{
    internal HeapProfileSite(IReadOnlyList<string> frames, long liveBytes, long liveCount, long allocatedBytes, long allocatedCount, long liveSamples)
    {
        Frames = frames;
        LiveBytes = liveBytes;
        LiveCount = liveCount;
        AllocatedBytes = allocatedBytes;
        AllocatedCount = allocatedCount;
        LiveSamples = liveSamples;
    }

    /// <summary>The managed frames as <c>Namespace.Type.Method</c>, innermost (the allocating call) first.</summary>
    public IReadOnlyList<string> Frames { get; }

    /// <summary>Estimated usable bytes of the site's blocks that are still allocated.</summary>
    public long LiveBytes { get; }

    /// <summary>Estimated number of the site's blocks that are still allocated.</summary>
    public long LiveCount { get; }

    /// <summary>Estimated usable bytes the site allocated since the arena was created.</summary>
    public long AllocatedBytes { get; }

    /// <summary>Estimated number of blocks the site allocated since the arena was created.</summary>
    public long AllocatedCount { get; }

    /// <summary>How many sampled blocks of the site are still allocated (the estimates rest on these).</summary>
    public long LiveSamples { get; }
}
