namespace Allocator.Hpa;

/// <summary>The pageslabs of one psset bucket and their active and dirty pages.</summary>
internal unsafe struct PssetBinStats
{
    /// <summary>Pageslabs in the bucket.</summary>
    public long NPageslabs;

    /// <summary>Their active pages.</summary>
    public long NActive;

    /// <summary>Their dirty pages.</summary>
    public long NDirty;

    internal void Add(Hpdata* ps, int sign)
    {
        NPageslabs += sign;
        NActive += sign * ps->NActive;
        NDirty += sign * ps->NDirty;
    }
}
