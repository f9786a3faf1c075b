namespace Allocator.Hpa;

/// <summary>What a pageslab purge marked (<see cref="Hpdata.PurgeBegin"/>) and how far it got; lives on the purging thread's stack.</summary>
internal unsafe struct HpdataPurgeState
{
    /// <summary>Dirty pages when the purge began: what the purge subtracts from the touched count.</summary>
    public int NDirtyToPurge;

    /// <summary>The page index <see cref="Hpdata.PurgeNext"/> continues from.</summary>
    public int Next;

    /// <summary>One bit per page to purge: dirty runs and the retained gaps between them.</summary>
    public fixed ulong ToPurge[HugePage.MaxPages / 64];
}
