namespace Allocator.Bench.Peers;

/// <summary>
/// The hot operations of one allocator under test. Implementations are structs so that every
/// workload, written as a generic method over the peer type, is compiled once per peer and the
/// calls inline: the harness then measures the allocator, not an interface dispatch. The cold
/// operation (purge) lives on <see cref="PeerEntry"/>.
/// </summary>
/// <typeparam name="TBlock">What an allocation hands back: a pointer for native peers, an array
/// for managed ones.</typeparam>
public interface IPeer<TBlock>
{
    /// <summary>Returns a block of at least <paramref name="size"/> bytes; throws when out of memory.</summary>
    TBlock Allocate(nuint size);

    /// <summary>Releases a block. The workloads always know the size they asked for; whether the
    /// peer is given it is the peer's entry point (<see cref="IFreeMode"/>).</summary>
    void Free(TBlock block, nuint size);

    /// <summary>Writes one byte, so that every block is really used (and its page committed).</summary>
    void Write(TBlock block, nuint offset, byte value);

    /// <summary>Reads one byte back (the false-sharing and read-back workloads).</summary>
    byte Read(TBlock block, nuint offset);

    /// <summary>Sets <paramref name="size"/> bytes from the start to <paramref name="value"/>
    /// (memset; zero gives calloc's contents).</summary>
    void Fill(TBlock block, nuint size, byte value);
}
