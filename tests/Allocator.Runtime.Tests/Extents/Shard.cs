using System;
using System.Collections.Generic;
using Allocator.Extents;
using Allocator.Hooks;
using Allocator.Map;
using Allocator.Metadata;
using Allocator.PageAllocators;
using Allocator.Sizing;

namespace Allocator.Tests.Extents;

/// <summary>
/// A private page allocator shard on its own address map and metadata base, so a test can walk
/// the whole map and check that destroying it gives everything back.
/// </summary>
internal sealed unsafe class Shard : IDisposable
{
    private readonly uint _arenaIndex;
    private bool _destroyed;

    public Shard(IExtentHooks? hooks = null, bool retain = true, int lgExtentMaxActiveFit = 6, long oversizeThreshold = 8 << 20,
        long dirtyDecayMs = 10_000, long muzzyDecayMs = 0, TimeProvider? time = null)
    {
        Hooks = hooks ?? DefaultExtentHooks.For(retain);
        Map = new ExtentMap();
        // Metadata maps through the OS directly so that failing test hooks never starve the base.
        Base = new Base(DefaultExtentHooks.Unmapping);
        _arenaIndex = ArenaIndices.Rent();
        Context = new ExtentContext(_arenaIndex, Hooks, Map, Base, SizeClasses.Default, retain, lgExtentMaxActiveFit,
            oversizeThreshold, dirtyDecayMs, muzzyDecayMs);
        Pac = new ClassicPageAllocator<RuntimeExtentPolicy>(Context, time);
    }

    public IExtentHooks Hooks { get; }

    public ExtentMap Map { get; }

    public Base Base { get; }

    public ExtentContext Context { get; }

    public ClassicPageAllocator<RuntimeExtentPolicy> Pac { get; }

    /// <summary>Extents the test holds, for <see cref="Validate"/>.</summary>
    public List<nint> Active { get; } = new();

    public static nuint Page => Allocator.Os.Pages.PageSize;

    public Edata* Alloc(nuint pages, nuint alignment = 0)
    {
        Edata* e = Pac.Alloc(pages * Page, alignment == 0 ? Page : alignment, zero: false);
        if (e != null) Active.Add((nint)e);
        return e;
    }

    public void Free(Edata* e)
    {
        Assert.True(Active.Remove((nint)e), "freeing an extent the test does not hold");
        Pac.Free(e);
    }

    public void Validate() => ExtentValidator.Validate(Context, Active.ToArray(), activeIsComplete: true, scanMap: true);

    /// <summary>Frees what the test still holds and destroys the shard.</summary>
    public void Destroy()
    {
        if (_destroyed) return;
        _destroyed = true;
        foreach (nint e in Active) Pac.Free((Edata*)e);
        Active.Clear();
        Pac.Destroy();
    }

    public void Dispose()
    {
        Destroy();
        Base.Dispose();
        Map.Dispose();
        ArenaIndices.Return(_arenaIndex);
    }
}
