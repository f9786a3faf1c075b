using System;
using System.ComponentModel;
using Allocator.Sizing;

namespace Allocator.Extents;

/// <summary>
/// Geometric growth of retained address space (jemalloc's exp_grow, formerly geom_grow): each
/// successful grow maps the next page-size class, starting at 2 MiB, up to a limit.
/// </summary>
/// <remarks>Guarded by the page allocator's grow lock.</remarks>
[EditorBrowsable(EditorBrowsableState.Advanced)]
internal sealed class ExpGrow
{
    private const ulong HugePage = 2 * 1024 * 1024;
    private readonly SizeClasses _classes;
    private int _next;
    private int _limit;

    /// <summary>Starts at the class of a huge page, limited by the largest class.</summary>
    public ExpGrow(SizeClasses pageClasses)
    {
        ArgumentNullException.ThrowIfNull(pageClasses);
        _classes = pageClasses;
        _next = pageClasses.PszToIndex(HugePage);
        _limit = pageClasses.PszToIndex(pageClasses.LargeMaxClass);
    }

    /// <summary>Page-size class index of the next mapping.</summary>
    public int NextIndex => _next;

    /// <summary>Size of the next mapping when nothing larger is needed.</summary>
    public ulong NextSize => _classes.IndexToPsz(_next);

    /// <summary>
    /// The largest mapping growth will make by itself (a larger request still gets a larger mapping).
    /// Setting rounds down to a page-size class; it caps the next size from the next grow on.
    /// </summary>
    public ulong Limit
    {
        get => _classes.IndexToPsz(_limit);
        set
        {
            int index = _classes.PszToIndex(value + 1) - 1;
            if (value < _classes.PageSize || index >= _classes.PageSizeClassCount)
                throw new ArgumentOutOfRangeException(nameof(value), value, "The grow limit must be at least a page and at most the largest size class.");
            _limit = index;
        }
    }

    /// <summary>
    /// The size of the mapping that holds <paramref name="minimum"/> bytes: the next class, or a
    /// later one (skipping) when the next is too small. False when no class is large enough.
    /// </summary>
    public bool TryPrepare(ulong minimum, out ulong size, out int skip)
    {
        skip = 0;
        size = _classes.IndexToPsz(_next);
        while (size < minimum)
        {
            skip++;
            if (_next + skip >= _classes.PageSizeClassCount) return false;
            size = _classes.IndexToPsz(_next + skip);
        }

        return true;
    }

    /// <summary>Records a successful grow: the next mapping is one class larger than this one.</summary>
    public void Commit(int skip) => _next = Math.Min(_next + skip + 1, _limit);
}
