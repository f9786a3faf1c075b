using Allocator.Hpa;
using Allocator.Os;

namespace Allocator.Tests.Hpa;

/// <summary>
/// Hugepage hooks for the policy tests: real mappings (so extents can be written), purge, hugify and
/// dehugify counted but not sent to the kernel, and a clock the test moves.
/// </summary>
internal sealed unsafe class FakeHpaHooks : IHpaHooks
{
    public int Maps, Unmaps, Purges, Hugifies, Dehugifies;
    public long PurgedBytes, UnmappedBytes;
    public long Now;

    /// <summary>What <see cref="Hugify"/> answers: false plays a system without huge pages.</summary>
    public bool HugePagesAvailable = true;

    public void* Map(nuint size)
    {
        Maps++;
        return Pages.Map(null, size, HugePage.Size, commit: true);
    }

    public void Unmap(void* address, nuint size)
    {
        Unmaps++;
        UnmappedBytes += (long)size;
        Pages.Unmap(address, size);
    }

    public void Purge(void* address, nuint size)
    {
        Purges++;
        PurgedBytes += (long)size;
    }

    public bool Hugify(void* address, nuint size, bool collapse)
    {
        Hugifies++;
        return HugePagesAvailable;
    }

    public void Dehugify(void* address, nuint size) => Dehugifies++;

    public long NowNs() => Now;

    public void AdvanceMs(long ms) => Now += ms * 1_000_000;
}
