using System;
using System.ComponentModel;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Threading;
using Allocator.Hooks;
using Allocator.Metadata;
using Allocator.Os;
using Allocator.Threading;

namespace Allocator.Map;

/// <summary>
/// A two-level radix tree from page address to one 64-bit leaf word (jemalloc's rtree): 48-bit
/// addresses, the significant bits above the page split evenly between the root and the leaves
/// (18 and 18 on 4 KiB pages, so each leaf covers 1 GiB). Leaves are mapped lazily from
/// <see cref="Base"/> and published with a release store; readers never lock.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Advanced)]
public sealed unsafe class Rtree : IDisposable
{
    private const int AddressBits = 48;

    // The geometry follows from the page size alone, so it is static: once the class is initialized
    // the JIT reads these as constants, and a lookup's shifts and masks become immediates.
    private static readonly int s_lgPage = BitOperations.Log2(Pages.PageSize);
    private static readonly int s_rootBits = (AddressBits - s_lgPage) / 2;
    private static readonly int s_leafBits = AddressBits - s_lgPage - s_rootBits;

    private readonly Base _base;
    private readonly bool _ownsBase;
    private readonly RankedLock _initLock = new(LockRank.RtreeInit);
    private readonly ulong** _root;

    /// <summary>Creates a tree whose nodes come from <paramref name="metadata"/> (or a private base when null).</summary>
    public Rtree(Base? metadata = null)
    {
        _ownsBase = metadata is null;
        _base = metadata ?? new Base(DefaultExtentHooks.Unmapping);
        _root = (ulong**)_base.Allocate((nuint)(sizeof(ulong*) << s_rootBits), 64);
        if (_root == null) throw new OutOfMemoryException("The address map could not map its root node.");
    }

    /// <summary>Bytes of address space one leaf covers.</summary>
    public ulong LeafSpan => 1UL << (s_lgPage + s_leafBits);

    /// <summary>
    /// Finds the leaf word of the page holding <paramref name="address"/>. With
    /// <paramref name="initMissing"/> a missing leaf is created (null only when metadata memory ran
    /// out); otherwise a missing leaf gives null.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong* Element(void* address, bool initMissing)
    {
        ulong key = (ulong)address;
        ulong rootIndex = (key >> (s_lgPage + s_leafBits)) & ((1UL << s_rootBits) - 1);
        ulong* leaf = (ulong*)Volatile.Read(ref *(nuint*)&_root[rootIndex]);
        if (leaf == null)
        {
            if (!initMissing) return null;
            leaf = CreateLeaf(rootIndex);
            if (leaf == null) return null;
        }

        return leaf + ((key >> s_lgPage) & ((1UL << s_leafBits) - 1));
    }

    /// <summary>The root node, for callers that keep it beside their own hot fields (see <see cref="ReadWord"/>).</summary>
    internal ulong** Root => _root;

    /// <summary>
    /// The leaf word of the page holding <paramref name="address"/> in the tree whose root is
    /// <paramref name="root"/>, or the empty word when no leaf covers it: the free path's lookup,
    /// two dependent loads (root entry, then leaf word) with constant shifts.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong ReadWord(ulong** root, void* address)
    {
        ulong key = (ulong)address;
        ulong* leaf = (ulong*)Volatile.Read(ref *(nuint*)&root[(key >> (s_lgPage + s_leafBits)) & ((1UL << s_rootBits) - 1)]);
        if (leaf == null) return RtreeContents.EmptyWord;
        return Volatile.Read(ref leaf[(key >> s_lgPage) & ((1UL << s_leafBits) - 1)]);
    }

    /// <summary>
    /// <see cref="ReadWord"/> for an address whose leaf is known to exist (a block this tree's arena
    /// handed out and has not unmapped): the same two loads without the missing-leaf test.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong ReadMappedWord(ulong** root, void* address)
    {
        ulong key = (ulong)address;
        ulong* leaf = (ulong*)Volatile.Read(ref *(nuint*)&root[(key >> (s_lgPage + s_leafBits)) & ((1UL << s_rootBits) - 1)]);
        Debug.Assert(leaf != null, "a mapped block's leaf exists");
        return Volatile.Read(ref leaf[(key >> s_lgPage) & ((1UL << s_leafBits) - 1)]);
    }

    /// <summary>Reads the contents for <paramref name="address"/>; false when no leaf covers it. Read-only: see <see cref="ExtentMap.TryLookup"/>.</summary>
    [AddressLookup]
    public bool TryRead(void* address, out RtreeContents contents)
    {
        ulong* e = Element(address, initMissing: false);
        if (e == null)
        {
            contents = default;
            return false;
        }

        contents = RtreeContents.Decode(Volatile.Read(ref *e));
        return true;
    }

    /// <summary>Writes the contents for <paramref name="address"/>, creating its leaf; false when metadata memory ran out.</summary>
    internal bool Write(void* address, in RtreeContents contents)
    {
        ulong* e = Element(address, initMissing: true);
        if (e == null) return false;
        Volatile.Write(ref *e, RtreeContents.Encode(contents));
        return true;
    }

    /// <summary>Marks the page of <paramref name="address"/> as mapping nothing.</summary>
    internal void Clear(void* address)
    {
        ulong* e = Element(address, initMissing: false);
        if (e != null) Volatile.Write(ref *e, RtreeContents.EmptyWord);
    }

    /// <summary>
    /// Writes the same contents to every page in [<paramref name="first"/>, <paramref name="last"/>],
    /// both page addresses; the leaf is looked up again wherever the range crosses into a new one.
    /// </summary>
    internal bool WriteRange(void* first, void* last, in RtreeContents contents) =>
        FillRange(first, last, RtreeContents.Encode(contents), initMissing: true);

    /// <summary>Clears every page in [<paramref name="first"/>, <paramref name="last"/>].</summary>
    internal void ClearRange(void* first, void* last) => FillRange(first, last, RtreeContents.EmptyWord, initMissing: false);

    private bool FillRange(void* first, void* last, ulong word, bool initMissing)
    {
        nuint page = Pages.PageSize;
        ulong* e = null;
        // Count pages rather than compare addresses, so a range ending at the top page cannot wrap.
        nuint count = ((nuint)last - (nuint)first) / page + 1;
        nuint a = (nuint)first;
        for (nuint i = 0; i < count; i++, a += page)
        {
            // Only the first page and each leaf boundary need a tree walk.
            if (e == null || (a & (nuint)(LeafSpan - 1)) == 0)
            {
                e = Element((void*)a, initMissing);
                if (e == null)
                {
                    if (initMissing) return false;
                    continue;
                }
            }
            else
            {
                e++;
            }

            Volatile.Write(ref *e, word);
        }

        return true;
    }

    /// <summary>
    /// Calls <paramref name="visit"/> with the page address and word of every non-empty element.
    /// For the consistency checker: it walks every leaf, so it is slow and only meaningful while
    /// nobody writes to the tree.
    /// </summary>
    internal void ForEachMapped(Action<nuint, ulong> visit)
    {
        int leafCount = 1 << s_leafBits;
        for (ulong r = 0; r < (1UL << s_rootBits); r++)
        {
            ulong* leaf = (ulong*)Volatile.Read(ref *(nuint*)&_root[r]);
            if (leaf == null) continue;
            for (int i = 0; i < leafCount; i++)
            {
                ulong word = Volatile.Read(ref leaf[i]);
                if (word != RtreeContents.EmptyWord) visit((nuint)((r << (s_lgPage + s_leafBits)) | ((ulong)i << s_lgPage)), word);
            }
        }
    }

    private ulong* CreateLeaf(ulong rootIndex)
    {
        using (_initLock.EnterScope())
        {
            ulong* leaf = _root[rootIndex];
            if (leaf != null) return leaf;
            nuint bytes = (nuint)sizeof(ulong) << s_leafBits;
            leaf = (ulong*)_base.Allocate(bytes, Pages.PageSize);
            if (leaf == null) return null;
            // Base memory is zeroed and a zero word is the empty word, so a fresh leaf needs no fill.
            Volatile.Write(ref *(nuint*)&_root[rootIndex], (nuint)leaf);
            return leaf;
        }
    }

    /// <summary>Releases the nodes when the tree owns its metadata base.</summary>
    public void Dispose()
    {
        if (_ownsBase) _base.Dispose();
    }
}
