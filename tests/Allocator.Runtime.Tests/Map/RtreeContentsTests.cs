using System;
using Allocator.Map;
using Allocator.Metadata;
using CsCheck;

namespace Allocator.Tests.Map;

/// <summary>
/// The packed leaf word of reference 2.3: bit 0 slab, bit 1 head, bits 2-4 state, bits 5-6 zero,
/// bits 7-47 the 128-aligned edata pointer, bits 48-63 the size index (wide enough for
/// every index a configuration with up to 16 classes per doubling numbers, and for Edata.NoSizeIndex).
/// </summary>
public unsafe class RtreeContentsTests
{
    private const ulong PointerBits = ((1UL << 48) - 1) & ~127UL;
    private static readonly ExtentState[] States = (ExtentState[])Enum.GetValues(typeof(ExtentState));

    // The layout written out from the reference, independently of the product's Encode.
    private static ulong ReferenceWord(ulong pointer, int sizeIndex, bool slab, bool head, ExtentState state) =>
        ((ulong)sizeIndex << 48) | pointer | ((ulong)state << 2) | (head ? 2UL : 0) | (slab ? 1UL : 0);

    private static void AssertRoundTrip(ulong pointer, int sizeIndex, bool slab, bool head, ExtentState state)
    {
        var c = new RtreeContents((Edata*)pointer, sizeIndex, slab, head, state);
        ulong word = RtreeContents.Encode(c);
        Assert.Equal(ReferenceWord(pointer, sizeIndex, slab, head, state), word);

        RtreeContents d = RtreeContents.Decode(word);
        Assert.Equal(pointer, (ulong)d.Edata);
        Assert.Equal(sizeIndex, d.SizeIndex);
        Assert.Equal(slab, d.IsSlab);
        Assert.Equal(head, d.IsHead);
        Assert.Equal(state, d.State);
    }

    [Fact]
    public void Every_state_head_slab_and_size_index_round_trips_at_the_extreme_pointers()
    {
        foreach (ulong pointer in new[] { 128UL, PointerBits, 0x5555_5555_5580UL & PointerBits })
            foreach (ExtentState state in States)
                for (int sizeIndex = 0; sizeIndex <= Edata.NoSizeIndex; sizeIndex++)
                    for (int flags = 0; flags < 4; flags++)
                        AssertRoundTrip(pointer, sizeIndex, (flags & 1) != 0, (flags & 2) != 0, state);
    }

    [Fact]
    public void Encode_then_decode_is_the_identity_for_any_aligned_48_bit_pointer()
    {
        Gen.Select(Gen.ULong[1, (1UL << 41) - 1], Gen.Int[0, ushort.MaxValue], Gen.Bool, Gen.Bool, Gen.Int[0, States.Length - 1])
            .Sample((p, sizeIndex, slab, head, state) => AssertRoundTrip(p << 7, sizeIndex, slab, head, States[state]), iter: 20_000);
    }

    [Fact]
    public void The_empty_word_decodes_to_no_extent_and_no_size_class()
    {
        RtreeContents d = RtreeContents.Decode(RtreeContents.EmptyWord);
        Assert.True(d.Edata == null);
        Assert.Equal(Edata.NoSizeIndex, d.SizeIndex);
        Assert.False(d.IsSlab);
        Assert.False(d.IsHead);
        Assert.Equal(ExtentState.Active, d.State);
    }

    [Fact]
    public void WithState_rewrites_only_the_three_state_bits()
    {
        Gen.Select(Gen.ULong[1, (1UL << 41) - 1], Gen.Int[0, ushort.MaxValue], Gen.Int[0, 3], Gen.Int[0, States.Length - 1], Gen.Int[0, States.Length - 1])
            .Sample((p, sizeIndex, flags, from, to) =>
            {
                ulong word = ReferenceWord(p << 7, sizeIndex, (flags & 1) != 0, (flags & 2) != 0, States[from]);
                ulong patched = RtreeContents.WithState(word, States[to]);
                Assert.Equal(word & ~(7UL << 2), patched & ~(7UL << 2));
                Assert.Equal(States[to], RtreeContents.Decode(patched).State);
            }, iter: 5_000);
    }
}
