using System;
using System.Collections.Generic;
using Allocator.Metadata;
using Allocator.Threading;

namespace Allocator.Profiling;

/// <summary>
/// One arena's profiler (jemalloc's prof_tdata and gctx state, per arena): the site table, the
/// promoted small blocks, and recording and forgetting the samples that edata carry. Its lock is a
/// leaf, never held across a call into the page allocator or a stack capture.
/// </summary>
internal sealed unsafe class HeapProfiler
{
    private readonly RankedLock _lock = new(LockRank.Profile);
    private readonly SiteTable _sites = new();

    // Sampled small blocks, each promoted to a page of its own; large sampled extents stay in the
    // arena's large list.
    private EdataList<ActiveLinks> _promoted;

    /// <param name="interval">The mean bytes between samples; 1 samples every block.</param>
    public HeapProfiler(long interval) => Interval = interval;

    /// <summary>The mean bytes between samples.</summary>
    public long Interval { get; }

    /// <summary>
    /// Records a sample on <paramref name="e"/>, the extent backing a block of <paramref name="usable"/>
    /// bytes allocated from <paramref name="stack"/>; a promoted block is also listed for reset.
    /// </summary>
    public void Record(Edata* e, string[] stack, ulong usable, double weight, bool promoted)
    {
        long w = SiteTable.ToFixed(weight);
        using (_lock.EnterScope())
        {
            int site = _sites.Intern(stack);
            e->Profile = new ProfileRecord { Site = site, UsableSize = usable, Weight = weight };
            e->IsProfiled = true;
            _sites.Add(site, usable, w);
            if (promoted) _promoted.Append(e);
        }
    }

    /// <summary>Removes the sample of a block being freed (from any thread) and clears its mark.</summary>
    public void Forget(Edata* e, bool promoted)
    {
        using (_lock.EnterScope())
        {
            ProfileRecord r = e->Profile;
            _sites.Remove(r.Site, r.UsableSize, SiteTable.ToFixed(r.Weight));
            e->IsProfiled = false;
            if (promoted) _promoted.Remove(e);
        }
    }

    /// <summary>Unlinks every promoted block into <paramref name="extents"/> and forgets every live sample (reset and dispose free all blocks).</summary>
    public void ReleaseAll(List<nint> extents)
    {
        using (_lock.EnterScope())
        {
            for (Edata* e = _promoted.First; e != null; e = EdataList<ActiveLinks>.Next(e)) extents.Add((nint)e);
            _promoted.Clear();
            _sites.ClearLive();
        }
    }

    /// <summary>Appends every promoted block (validation and the address-space picture).</summary>
    public void Collect(List<nint> extents)
    {
        using (_lock.EnterScope())
        {
            for (Edata* e = _promoted.First; e != null; e = EdataList<ActiveLinks>.Next(e)) extents.Add((nint)e);
        }
    }

    /// <summary>The sites and their estimates now, most live bytes first.</summary>
    public HeapProfile Snapshot(uint arenaIndex)
    {
        var sites = new List<HeapProfileSite>();
        using (_lock.EnterScope())
        {
            for (int i = 0; i < _sites.Count; i++)
            {
                SiteTable.Site s = _sites[i];
                sites.Add(new HeapProfileSite(Frames(s.Stack), FromFixed(s.LiveBytes), FromFixed(s.LiveCount),
                    FromFixed(s.AllocatedBytes), FromFixed(s.AllocatedCount), s.LiveSamples));
            }
        }

        sites.Sort((a, b) => b.LiveBytes.CompareTo(a.LiveBytes));
        return new HeapProfile(arenaIndex, Interval, sites, DateTimeOffset.UtcNow);
    }

    private static long FromFixed(Int128 value) => (long)((value + (1 << (SiteTable.FixedShift - 1))) >> SiteTable.FixedShift);

    private static string[] Frames(string[] stack)
    {
        var frames = new string[stack.Length / 2];
        for (int i = 0; i < frames.Length; i++)
            frames[i] = stack[2 * i].Length == 0 ? stack[2 * i + 1] : stack[2 * i] + "." + stack[2 * i + 1];
        return frames;
    }
}
