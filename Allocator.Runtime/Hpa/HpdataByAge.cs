using System.Diagnostics;
using Allocator.Metadata;

namespace Allocator.Hpa;

/// <summary>
/// Pageslabs ordered by age, oldest first, over the pageslab's heap links (one heap per psset bin).
/// </summary>
internal readonly unsafe struct HpdataByAge : IPairingHeapNode<Hpdata>
{
    public static ref Hpdata* Child(Hpdata* ps) => ref ps->HeapChild;

    public static ref Hpdata* Next(Hpdata* ps) => ref ps->HeapNext;

    public static ref Hpdata* Prev(Hpdata* ps) => ref ps->HeapPrev;

    public static bool Precedes(Hpdata* a, Hpdata* b)
    {
        Debug.Assert(a->Age != b->Age, "pageslab ages must be unique");
        return a->Age < b->Age;
    }
}
