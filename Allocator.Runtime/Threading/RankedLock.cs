using System;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Allocator.Threading;

/// <summary>
/// A <see cref="Lock"/> created with its <see cref="LockRank"/>. With the witness compiled in
/// (Debug builds, or <c>-p:AllocatorWitness=true</c>), taking it while the thread holds a lock of
/// the same or a higher rank throws <see cref="InvalidOperationException"/> naming both, before
/// the thread could deadlock; without it, each call is the plain <see cref="Lock"/> call.
/// </summary>
internal readonly struct RankedLock
{
    private readonly Lock _lock;

    public RankedLock(LockRank rank)
    {
        _lock = new Lock();
        Rank = rank;
    }

    public LockRank Rank { get; }

    /// <summary>Whether the witness checks the order in this build.</summary>
    public static bool WitnessEnabled =>
#if ALLOCATOR_WITNESS
        true;
#else
        false;
#endif

    public bool IsHeldByCurrentThread => _lock.IsHeldByCurrentThread;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Enter()
    {
        Witness.Acquiring(Rank);
        _lock.Enter();
        Witness.Acquired(Rank);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryEnter()
    {
        Witness.Acquiring(Rank);
        if (!_lock.TryEnter()) return false;
        Witness.Acquired(Rank);
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Exit()
    {
        Witness.Released(Rank);
        _lock.Exit();
    }

    /// <summary>Takes the lock; dispose the scope to release it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Scope EnterScope()
    {
        Enter();
        return new Scope(this);
    }

    /// <summary>Holds a <see cref="RankedLock"/> until disposed.</summary>
    public ref struct Scope
    {
        private RankedLock _owner;
        private bool _held;

        internal Scope(RankedLock owner)
        {
            _owner = owner;
            _held = true;
        }

        public void Dispose()
        {
            if (!_held) return;
            _held = false;
            _owner.Exit();
        }
    }

    // The ranks this thread holds, one bit each. Ranks are distinct per lock class and a thread
    // never holds two locks of one rank (that is what the check refuses), so a bit set is enough.
    private static class Witness
    {
        [ThreadStatic] private static uint t_held;

        [Conditional("ALLOCATOR_WITNESS")]
        public static void Acquiring(LockRank rank)
        {
            uint higherOrEqual = t_held & ~((1u << (int)rank) - 1);
            if (higherOrEqual == 0) return;
            var held = (LockRank)(31 - BitOperations.LeadingZeroCount(higherOrEqual));
            throw new InvalidOperationException(
                $"Lock order broken: taking a {rank} lock (rank {(int)rank}) while holding a {held} lock (rank {(int)held}); " +
                "a thread may only take locks of a higher rank than every lock it holds (see LockRank).");
        }

        [Conditional("ALLOCATOR_WITNESS")]
        public static void Acquired(LockRank rank) => t_held |= 1u << (int)rank;

        [Conditional("ALLOCATOR_WITNESS")]
        public static void Released(LockRank rank) => t_held &= ~(1u << (int)rank);
    }
}
