using Allocator.Metadata;

namespace Allocator.Extents;

/// <summary>
/// (serial number, address) over an edata's heap links: older extents first, then lower ones
/// (free-extent bins, non-full slabs).
/// </summary>
internal readonly unsafe struct SerialThenAddress : IPairingHeapNode<Edata>
{
    public static ref Edata* Child(Edata* e) => ref e->HeapChild;

    public static ref Edata* Next(Edata* e) => ref e->HeapNext;

    public static ref Edata* Prev(Edata* e) => ref e->HeapPrev;

    public static bool Precedes(Edata* a, Edata* b) => Edata.CompareSerialThenAddress(a, b) < 0;
}

/// <summary>
/// (edata serial number, pointer) over an edata's heap links: the oldest metadata is reused first
/// (the edata cache).
/// </summary>
internal readonly unsafe struct EsnThenPointer : IPairingHeapNode<Edata>
{
    public static ref Edata* Child(Edata* e) => ref e->HeapChild;

    public static ref Edata* Next(Edata* e) => ref e->HeapNext;

    public static ref Edata* Prev(Edata* e) => ref e->HeapPrev;

    public static bool Precedes(Edata* a, Edata* b) => a->Esn != b->Esn ? a->Esn < b->Esn : a < b;
}
