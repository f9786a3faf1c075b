using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Allocator.Profiling;

/// <summary>
/// The blocks an arena still held when it was disposed, by allocation site (jemalloc's leak report at
/// exit). With <see cref="ArenaOptions.LeakReport"/> every block is sampled, so the figures are exact.
/// </summary>
public sealed class LeakReport : EventArgs
{
    internal LeakReport(HeapProfile profile)
    {
        ArenaIndex = profile.ArenaIndex;
        var sites = new List<HeapProfileSite>();
        foreach (HeapProfileSite s in profile.Sites)
        {
            if (s.LiveCount > 0) sites.Add(s);
        }

        Sites = sites;
        LeakedBytes = profile.LiveBytes;
        LeakedBlocks = profile.LiveCount;
    }

    /// <summary>The index the disposed arena had.</summary>
    public uint ArenaIndex { get; }

    /// <summary>The sites with blocks still allocated, most bytes first.</summary>
    public IReadOnlyList<HeapProfileSite> Sites { get; }

    /// <summary>Usable bytes still allocated.</summary>
    public long LeakedBytes { get; }

    /// <summary>Blocks still allocated.</summary>
    public long LeakedBlocks { get; }

    /// <summary>The report as text: a summary line, then per site its blocks, bytes and frames (innermost first).</summary>
    public string ToText()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Arena {ArenaIndex} was disposed with {LeakedBlocks} blocks ({LeakedBytes} bytes) still allocated, from {Sites.Count} sites:\n");
        foreach (HeapProfileSite site in Sites)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {site.LiveCount} blocks, {site.LiveBytes} bytes, allocated at\n");
            foreach (string frame in site.Frames) text.Append("    ").Append(frame).Append('\n');
        }

        return text.ToString();
    }
}
