using System;
using Allocator.Threading;

namespace Allocator.Hpa;

/// <summary>
/// The one source of pageslabs every hugepage shard of the process draws from (jemalloc's
/// hpa_central): it maps a large hugepage-aligned reserve (eden) at a time and carves 2 MiB slabs
/// off its front. Slabs never come back here; a shard unmaps its own when it is destroyed.
/// </summary>
internal sealed unsafe class HpaCentral : IDisposable
{
    /// <summary>The reserve mapped at a time: 128 huge pages (address space only until touched).</summary>
    public const nuint EdenSize = 128 * HugePage.Size;

    private static readonly Lazy<HpaCentral> s_shared = new(() => new HpaCentral(OsHpaHooks.Instance));

    private readonly RankedLock _lock = new(LockRank.HpaCentral);
    private readonly IHpaHooks _hooks;
    private byte* _eden;
    private nuint _edenLength;
    private long _extracted;

    /// <summary>Creates a central that maps through <paramref name="hooks"/> (tests give it counting ones).</summary>
    public HpaCentral(IHpaHooks hooks) => _hooks = hooks;

    /// <summary>The process's central, on the OS.</summary>
    public static HpaCentral Shared => s_shared.Value;

    /// <summary>Pageslabs handed out so far.</summary>
    public long Extracted => System.Threading.Volatile.Read(ref _extracted);

    /// <summary>Bytes of eden not carved yet.</summary>
    public nuint EdenRemaining
    {
        get
        {
            using (_lock.EnterScope()) return _edenLength;
        }
    }

    /// <summary>A fresh 2 MiB-aligned pageslab, or null when the OS has no address space to give.</summary>
    public void* Extract()
    {
        using (_lock.EnterScope())
        {
            if (_edenLength == 0)
            {
                nuint length = EdenSize;
                byte* eden = (byte*)_hooks.Map(length);
                // Short of address space: one slab alone may still fit.
                if (eden == null)
                {
                    length = HugePage.Size;
                    eden = (byte*)_hooks.Map(length);
                }

                if (eden == null) return null;
                _eden = eden;
                _edenLength = length;
            }

            byte* slab = _eden;
            _eden += HugePage.Size;
            _edenLength -= HugePage.Size;
            _extracted++;
            return slab;
        }
    }

    /// <summary>Unmaps the uncarved rest of eden (a private central in tests; the shared one lives as long as the process).</summary>
    public void Dispose()
    {
        using (_lock.EnterScope())
        {
            if (_edenLength != 0) _hooks.Unmap(_eden, _edenLength);
            _edenLength = 0;
            _eden = null;
        }
    }
}
