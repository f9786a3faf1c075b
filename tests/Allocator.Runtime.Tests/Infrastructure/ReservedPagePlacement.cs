using System;
using System.Collections.Generic;
using Allocator.Os;

namespace Allocator.Tests.Infrastructure;

/// <summary>
/// Places the mappings that <see cref="Pages"/> makes on the installing thread in a private
/// <see cref="AddressReservation"/>, by request order, instead of where the kernel would put them.
/// Two runs of a workload with the default hooks then get the same addresses, so the same
/// adjacency and the same OS calls. A hint is honoured when it lies above everything placed so
/// far, and otherwise the mapping goes elsewhere, as without MAP_FIXED. Unmaps of placed ranges
/// are taken from any thread, so the kernel never punches a hole into the reservation.
/// </summary>
internal sealed unsafe class ReservedPagePlacement : IPagePlacement, IDisposable
{
    private readonly AddressReservation _reservation = new();
    private readonly int _thread = Environment.CurrentManagedThreadId;
    private readonly System.Threading.Lock _lock = new();
    private readonly HashSet<nuint> _mappedPages = new();
    private readonly List<(nuint Hint, nuint Size, nuint Address)> _maps = new();

    private ReservedPagePlacement()
    {
    }

    /// <summary>Every map placed so far, in order: the hint, the size and where it went (0 when it failed).</summary>
    public IReadOnlyList<(nuint Hint, nuint Size, nuint Address)> Maps
    {
        get { using (_lock.EnterScope()) return _maps.ToArray(); }
    }

    /// <summary>Bytes placed and not unmapped since.</summary>
    public nuint MappedBytes
    {
        get { using (_lock.EnterScope()) return (nuint)_mappedPages.Count * Pages.PageSize; }
    }

    /// <summary>Installs a placement for the calling thread's mappings until it is disposed.</summary>
    public static ReservedPagePlacement Install()
    {
        if (Pages.PlacementForTests != null) throw new InvalidOperationException("another placement is installed");
        var placement = new ReservedPagePlacement();
        Pages.PlacementForTests = placement;
        return placement;
    }

    /// <summary>Whether the page at <paramref name="address"/> was placed and is still mapped.</summary>
    public bool IsMapped(nuint address)
    {
        using (_lock.EnterScope()) return _mappedPages.Contains(address & ~(Pages.PageSize - 1));
    }

    public bool TryMap(void* hint, nuint size, bool accessible, out void* address)
    {
        address = null;
        if (Environment.CurrentManagedThreadId != _thread) return false;
        using (_lock.EnterScope())
        {
            address = hint == null ? null : _reservation.Map(hint, size, Pages.PageSize, accessible);
            if (address == null) address = _reservation.Map(null, size, Pages.PageSize, accessible);
            _maps.Add(((nuint)hint, size, (nuint)address));
            if (address != null)
            {
                for (nuint offset = 0; offset < size; offset += Pages.PageSize) _mappedPages.Add((nuint)address + offset);
            }

            return true;
        }
    }

    public bool TryUnmap(void* address, nuint size, out bool unmapped)
    {
        unmapped = false;
        if (!_reservation.Contains(address)) return false;
        using (_lock.EnterScope())
        {
            unmapped = _reservation.Release(address, size);
            if (unmapped)
            {
                for (nuint offset = 0; offset < size; offset += Pages.PageSize) _mappedPages.Remove((nuint)address + offset);
            }

            return true;
        }
    }

    public void Dispose()
    {
        if (Pages.PlacementForTests == this) Pages.PlacementForTests = null;
        _reservation.Dispose();
    }
}
