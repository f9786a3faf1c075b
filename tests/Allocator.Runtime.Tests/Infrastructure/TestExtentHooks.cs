using System;
using System.Collections.Generic;
using System.Threading;
using Allocator.Hooks;

namespace Allocator.Tests.Infrastructure;

/// <summary>The nine extent hooks, in <see cref="IExtentHooks"/> order; indexes the per-hook counters.</summary>
public enum HookKind
{
    Alloc,
    Dalloc,
    Destroy,
    Commit,
    Decommit,
    PurgeLazy,
    PurgeForced,
    Split,
    Merge,
}

/// <summary>
/// Intercepting hooks over <see cref="DefaultExtentHooks"/>, after jemalloc's test/include/test/extent_hooks.h:
/// per hook a Try switch (false = refuse with the failure value), Called and Did counts, plus
/// systematic fault injection, a record of the live mappings handed out, and a detector for
/// merges across the start of an original mapping. Safe to call from many threads.
/// </summary>
/// <remarks>
/// A refused or failed call returns what a real hook returns on failure: null from Alloc, false
/// from the bool hooks, nothing done for Destroy. Problems that are bugs of the caller rather than
/// refusals (releasing memory that was not live, merging non-adjacent ranges) are recorded in
/// <see cref="Anomalies"/> instead of thrown, so the allocator under test is not torn mid-operation.
/// </remarks>
public sealed unsafe class TestExtentHooks : IExtentHooks
{
    private const int KindCount = 9;

    private readonly DefaultExtentHooks _inner;
    private readonly AddressReservation? _placement;
    private readonly long[] _called = new long[KindCount];
    private readonly long[] _did = new long[KindCount];
    private readonly long[] _refused = new long[KindCount];
    private readonly long[] _sinceFailAt = new long[KindCount];
    private readonly long[] _failAt = new long[KindCount];
    private readonly int[] _tryDisabled = new int[KindCount];
    private long _mergesAcrossMappingStart;

    // Live bytes as disjoint ranges keyed by start, one entry per piece of an Alloc result still mapped.
    private readonly Lock _mapLock = new();
    private readonly SortedDictionary<nuint, nuint> _live = new();
    private readonly HashSet<nuint> _liveStarts = new();
    private readonly List<string> _anomalies = new();

    /// <summary>Wraps <see cref="DefaultExtentHooks.Retaining"/> or <see cref="DefaultExtentHooks.Unmapping"/>.</summary>
    /// <param name="retain">Whether Dalloc refuses, so address space is retained.</param>
    /// <param name="reportUncommitted">
    /// Map inaccessible, uncommitted memory whenever the caller allows it, and decommit for real
    /// (discard and make inaccessible), as on a host that does not overcommit; otherwise an
    /// overcommitting host never leaves an extent uncommitted and never calls commit.
    /// </param>
    /// <param name="placement">
    /// Where mappings are made: null for wherever the kernel puts them, or a reservation that
    /// places them by the order of the requests alone, so that two runs of one workload see the
    /// same adjacencies (and make the same hook calls).
    /// </param>
    public TestExtentHooks(bool retain, bool reportUncommitted = false, AddressReservation? placement = null)
    {
        _inner = DefaultExtentHooks.For(retain);
        ReportUncommitted = reportUncommitted;
        _placement = placement;
    }

    /// <summary>Whether memory is mapped uncommitted when allowed and decommit really decommits.</summary>
    public bool ReportUncommitted { get; }

    /// <summary>Whether the wrapped hooks retain (their Dalloc refuses).</summary>
    public bool Retain => _inner.Retain;

    /// <summary>Throw <see cref="InvalidOperationException"/> from <see cref="Merge"/> when its second range starts an original mapping.</summary>
    public bool ThrowOnMergeAcrossMappingStart { get; set; }

    public bool TryAlloc { get => Allowed(HookKind.Alloc); set => SetTry(HookKind.Alloc, value); }
    public bool TryDalloc { get => Allowed(HookKind.Dalloc); set => SetTry(HookKind.Dalloc, value); }
    public bool TryDestroy { get => Allowed(HookKind.Destroy); set => SetTry(HookKind.Destroy, value); }
    public bool TryCommit { get => Allowed(HookKind.Commit); set => SetTry(HookKind.Commit, value); }
    public bool TryDecommit { get => Allowed(HookKind.Decommit); set => SetTry(HookKind.Decommit, value); }
    public bool TryPurgeLazy { get => Allowed(HookKind.PurgeLazy); set => SetTry(HookKind.PurgeLazy, value); }
    public bool TryPurgeForced { get => Allowed(HookKind.PurgeForced); set => SetTry(HookKind.PurgeForced, value); }
    public bool TrySplit { get => Allowed(HookKind.Split); set => SetTry(HookKind.Split, value); }
    public bool TryMerge { get => Allowed(HookKind.Merge); set => SetTry(HookKind.Merge, value); }

    /// <summary>Whether calls of <paramref name="kind"/> are forwarded (jemalloc's try_&lt;hook&gt;).</summary>
    public bool Allowed(HookKind kind) => Volatile.Read(ref _tryDisabled[(int)kind]) == 0;

    /// <summary>Forward calls of <paramref name="kind"/> (true) or refuse every one of them (false).</summary>
    public void SetTry(HookKind kind, bool allowed) => Volatile.Write(ref _tryDisabled[(int)kind], allowed ? 0 : 1);

    /// <summary>Refuses every call of <paramref name="kind"/> from now on (same as setting its Try switch false).</summary>
    public void FailAlways(HookKind kind) => SetTry(kind, false);

    /// <summary>
    /// Makes the <paramref name="n"/>-th call (1-based) of <paramref name="kind"/> made after this
    /// call fail, once; the calls before and after it are forwarded. Replaces an earlier FailAt of that kind.
    /// </summary>
    public void FailAt(HookKind kind, int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        // Disarm first so a concurrent call cannot match the new n against the old count.
        Volatile.Write(ref _failAt[(int)kind], 0);
        Volatile.Write(ref _sinceFailAt[(int)kind], 0);
        Volatile.Write(ref _failAt[(int)kind], n);
    }

    /// <summary>Clears every FailAt and turns every Try switch back on.</summary>
    public void ClearFaults()
    {
        for (int k = 0; k < KindCount; k++)
        {
            Volatile.Write(ref _failAt[k], 0);
            Volatile.Write(ref _tryDisabled[k], 0);
        }
    }

    /// <summary>Calls of <paramref name="kind"/> since construction or <see cref="ResetCounts"/>, refused ones included.</summary>
    public long Called(HookKind kind) => Volatile.Read(ref _called[(int)kind]);

    /// <summary>Calls of <paramref name="kind"/> that were forwarded and succeeded.</summary>
    public long Did(HookKind kind) => Volatile.Read(ref _did[(int)kind]);

    /// <summary>Calls of <paramref name="kind"/> refused by a Try switch or an injected fault.</summary>
    public long Refused(HookKind kind) => Volatile.Read(ref _refused[(int)kind]);

    /// <summary>Calls of every kind since construction or <see cref="ResetCounts"/>.</summary>
    public long TotalCalls
    {
        get
        {
            long sum = 0;
            for (int k = 0; k < KindCount; k++) sum += Volatile.Read(ref _called[k]);
            return sum;
        }
    }

    public long CalledAlloc => Called(HookKind.Alloc);
    public long CalledDalloc => Called(HookKind.Dalloc);
    public long CalledDestroy => Called(HookKind.Destroy);
    public long CalledCommit => Called(HookKind.Commit);
    public long CalledDecommit => Called(HookKind.Decommit);
    public long CalledPurgeLazy => Called(HookKind.PurgeLazy);
    public long CalledPurgeForced => Called(HookKind.PurgeForced);
    public long CalledSplit => Called(HookKind.Split);
    public long CalledMerge => Called(HookKind.Merge);
    public long DidAlloc => Did(HookKind.Alloc);
    public long DidDalloc => Did(HookKind.Dalloc);
    public long DidDestroy => Did(HookKind.Destroy);
    public long DidCommit => Did(HookKind.Commit);
    public long DidDecommit => Did(HookKind.Decommit);
    public long DidPurgeLazy => Did(HookKind.PurgeLazy);
    public long DidPurgeForced => Did(HookKind.PurgeForced);
    public long DidSplit => Did(HookKind.Split);
    public long DidMerge => Did(HookKind.Merge);

    /// <summary>Merges whose second range started an original mapping (whether or not they threw).</summary>
    public long MergesAcrossMappingStart => Volatile.Read(ref _mergesAcrossMappingStart);

    /// <summary>Zeroes the Called/Did/Refused counts (not the live mappings, faults or switches).</summary>
    public void ResetCounts()
    {
        for (int k = 0; k < KindCount; k++)
        {
            Volatile.Write(ref _called[k], 0);
            Volatile.Write(ref _did[k], 0);
            Volatile.Write(ref _refused[k], 0);
        }

        Volatile.Write(ref _mergesAcrossMappingStart, 0);
    }

    /// <summary>The address ranges handed out by Alloc that are still mapped, lowest first.</summary>
    public IReadOnlyList<(nuint Address, nuint Size)> LiveMappings
    {
        get
        {
            lock (_mapLock)
            {
                var list = new List<(nuint, nuint)>(_live.Count);
                foreach (var (start, end) in _live) list.Add((start, end - start));
                return list;
            }
        }
    }

    /// <summary>Bytes handed out by Alloc and not yet given back through Dalloc or Destroy.</summary>
    public nuint MappedBytes
    {
        get
        {
            lock (_mapLock)
            {
                nuint sum = 0;
                foreach (var (start, end) in _live) sum += end - start;
                return sum;
            }
        }
    }

    /// <summary>Caller bugs seen so far: releases of memory that was not live, merges of non-adjacent ranges.</summary>
    public IReadOnlyList<string> Anomalies
    {
        get { lock (_mapLock) return _anomalies.ToArray(); }
    }

    /// <summary>Whether <paramref name="address"/> is the start of a mapping Alloc returned and that start is still mapped.</summary>
    public bool IsMappingStart(void* address)
    {
        lock (_mapLock) return _liveStarts.Contains((nuint)address);
    }

    /// <inheritdoc/>
    public void* Alloc(void* newAddress, nuint size, nuint alignment, ref bool zero, ref bool commit, uint arenaIndex)
    {
        // A refused alloc leaves zero and commit untouched, as the contract says.
        if (!Enter(HookKind.Alloc)) return null;
        void* p;
        if (_placement != null)
        {
            // Committed as the default hooks map on an overcommitting host, unless asked otherwise.
            bool mapCommitted = commit || !ReportUncommitted;
            p = _placement.Map(newAddress, size, alignment, mapCommitted);
            if (p != null)
            {
                zero = true;
                commit = mapCommitted;
            }
        }
        else if (ReportUncommitted && !commit)
        {
            p = Allocator.Os.Pages.Map(newAddress, size, alignment, commit: false);
            zero = true;
        }
        else
        {
            p = _inner.Alloc(newAddress, size, alignment, ref zero, ref commit, arenaIndex);
        }

        if (p == null) return null;
        lock (_mapLock)
        {
            _live[(nuint)p] = (nuint)p + size;
            _liveStarts.Add((nuint)p);
        }

        Succeeded(HookKind.Alloc);
        return p;
    }

    /// <inheritdoc/>
    public bool Dalloc(void* address, nuint size, bool committed, uint arenaIndex)
    {
        if (!Enter(HookKind.Dalloc)) return false;
        // Unmap and record under one lock: once unmapped, another thread's Alloc may get the same
        // address back, and its record must not land before this release is booked.
        lock (_mapLock)
        {
            if (_placement != null ? Retain || !_placement.Release(address, size) : !_inner.Dalloc(address, size, committed, arenaIndex)) return false;
            Released(address, size, "Dalloc");
        }

        Succeeded(HookKind.Dalloc);
        return true;
    }

    /// <inheritdoc/>
    public void Destroy(void* address, nuint size, bool committed, uint arenaIndex)
    {
        if (!Enter(HookKind.Destroy)) return;
        lock (_mapLock)
        {
            if (_placement != null) _placement.Release(address, size);
            else _inner.Destroy(address, size, committed, arenaIndex);
            Released(address, size, "Destroy");
        }

        Succeeded(HookKind.Destroy);
    }

    /// <inheritdoc/>
    public bool Commit(void* address, nuint size, nuint offset, nuint length, uint arenaIndex) =>
        Enter(HookKind.Commit) && Result(HookKind.Commit, _inner.Commit(address, size, offset, length, arenaIndex));

    /// <inheritdoc/>
    public bool Decommit(void* address, nuint size, nuint offset, nuint length, uint arenaIndex) =>
        Enter(HookKind.Decommit) && Result(HookKind.Decommit, ReportUncommitted
            ? Allocator.Os.Pages.PurgeForced((byte*)address + offset, length) && Allocator.Os.Pages.Protect((byte*)address + offset, length)
            : _inner.Decommit(address, size, offset, length, arenaIndex));

    /// <inheritdoc/>
    public bool PurgeLazy(void* address, nuint size, nuint offset, nuint length, uint arenaIndex) =>
        Enter(HookKind.PurgeLazy) && Result(HookKind.PurgeLazy, _inner.PurgeLazy(address, size, offset, length, arenaIndex));

    /// <inheritdoc/>
    public bool PurgeForced(void* address, nuint size, nuint offset, nuint length, uint arenaIndex) =>
        Enter(HookKind.PurgeForced) && Result(HookKind.PurgeForced, _inner.PurgeForced(address, size, offset, length, arenaIndex));

    /// <inheritdoc/>
    public bool Split(void* address, nuint size, nuint sizeA, nuint sizeB, bool committed, uint arenaIndex)
    {
        if (sizeA + sizeB != size) Anomaly($"Split of {size} bytes at 0x{(nuint)address:x} into {sizeA} + {sizeB}");
        return Enter(HookKind.Split) && Result(HookKind.Split, _inner.Split(address, size, sizeA, sizeB, committed, arenaIndex));
    }

    /// <inheritdoc/>
    public bool Merge(void* addressA, nuint sizeA, void* addressB, nuint sizeB, bool committed, uint arenaIndex)
    {
        // jemalloc's test merge hook asserts adjacency; here it is recorded so the caller's state stays intact.
        if ((byte*)addressA + sizeA != addressB) Anomaly($"Merge of non-adjacent 0x{(nuint)addressA:x}+{sizeA} and 0x{(nuint)addressB:x}");
        if (IsMappingStart(addressB))
        {
            Interlocked.Increment(ref _mergesAcrossMappingStart);
            if (ThrowOnMergeAcrossMappingStart)
            {
                Interlocked.Increment(ref _called[(int)HookKind.Merge]);
                throw new InvalidOperationException(
                    $"Merge across the start of an original mapping: 0x{(nuint)addressA:x}+{sizeA} with 0x{(nuint)addressB:x}+{sizeB}.");
            }
        }

        return Enter(HookKind.Merge) && Result(HookKind.Merge, _inner.Merge(addressA, sizeA, addressB, sizeB, committed, arenaIndex));
    }

    // Counts the call and decides whether it is forwarded: false when a Try switch or an armed FailAt refuses it.
    private bool Enter(HookKind kind)
    {
        int k = (int)kind;
        Interlocked.Increment(ref _called[k]);
        long failAt = Volatile.Read(ref _failAt[k]);
        bool injected = failAt != 0 && Interlocked.Increment(ref _sinceFailAt[k]) == failAt;
        if (!injected && Allowed(kind)) return true;
        Interlocked.Increment(ref _refused[k]);
        return false;
    }

    private bool Result(HookKind kind, bool ok)
    {
        if (ok) Succeeded(kind);
        return ok;
    }

    private void Succeeded(HookKind kind) => Interlocked.Increment(ref _did[(int)kind]);

    // Removes [address, address + size) from the live ranges, splitting a range it cuts into.
    private void Released(void* address, nuint size, string hook)
    {
        nuint start = (nuint)address, end = start + size;
        lock (_mapLock)
        {
            nuint covered = 0;
            var overlapping = new List<(nuint Start, nuint End)>();
            foreach (var (s, e) in _live)
            {
                if (s >= end) break;
                if (e > start) overlapping.Add((s, e));
            }

            foreach (var (s, e) in overlapping)
            {
                _live.Remove(s);
                nuint cutStart = s > start ? s : start, cutEnd = e < end ? e : end;
                covered += cutEnd - cutStart;
                if (s < start) _live[s] = start;
                if (e > end) _live[end] = e;
                if (cutStart == s) _liveStarts.Remove(s);
            }

            if (covered != size)
                _anomalies.Add($"{hook} of 0x{start:x}+{size}: only {covered} of those bytes were live mappings from Alloc");
        }
    }

    private void Anomaly(string text)
    {
        lock (_mapLock) _anomalies.Add(text);
    }
}
