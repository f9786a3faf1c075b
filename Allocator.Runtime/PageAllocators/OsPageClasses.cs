using System.Numerics;
using Allocator.Os;
using Allocator.Sizing;

namespace Allocator.PageAllocators;

/// <summary>The page classes of a shard created without its own: jemalloc's defaults on this OS's page size.</summary>
internal static class OsPageClasses
{
    public static readonly SizeClasses Value = new(4, BitOperations.Log2(Pages.PageSize));
}
