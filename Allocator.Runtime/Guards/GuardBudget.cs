using System;
using System.Diagnostics;
using System.Threading;

namespace Allocator.Guards;

/// <summary>
/// One page allocator shard's side of the <see cref="GuardMappingAccount"/>: the limit its share
/// gives, what its own guard pages cost now, and how many guards it could not make.
/// </summary>
/// <remarks>
/// <see cref="PageGuard.GuardPages"/> charges it before protecting a page and
/// <see cref="PageGuard.UnguardPages"/> / <see cref="PageGuard.UnguardPagesPreDestroy"/> release it, so
/// every guard page is charged once and released once, whichever way its extent ends.
/// </remarks>
internal sealed class GuardBudget
{
    /// <summary>The share of the process's mappings guards may use unless told otherwise.</summary>
    public const double DefaultShare = ArenaDeclarationRules.DefaultGuardMappingShare;

    private long _guardPages, _skippedForBudget, _refusedByOs;

    /// <summary>A budget of <paramref name="share"/> of <paramref name="account"/>'s mappings.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="share"/> is not in (0, 1].</exception>
    public GuardBudget(GuardMappingAccount account, double share)
    {
        ArgumentNullException.ThrowIfNull(account);
        if (!ArenaDeclarationRules.IsValidGuardMappingShare(share))
            throw new ArgumentOutOfRangeException(nameof(share), share, "The guard mapping share is a fraction of vm.max_map_count above 0 and at most 1.");
        Account = account;
        Share = share;
        Limit = account.LimitFor(share);
    }

    /// <summary>The process-wide account this budget draws on.</summary>
    public GuardMappingAccount Account { get; }

    /// <summary>The fraction of the process's mappings this shard's guards may bring the account to.</summary>
    public double Share { get; }

    /// <summary>The account total past which this shard makes no new guard page.</summary>
    public long Limit { get; }

    /// <summary>Guard pages of this shard in place now.</summary>
    public long GuardPages => Volatile.Read(ref _guardPages);

    /// <summary>Mappings this shard's guard pages may cost now.</summary>
    public long Mappings => GuardPages * GuardMappingAccount.MappingsPerGuardPage;

    /// <summary>Extents that were to be guarded and were served unguarded because the budget was spent.</summary>
    public long SkippedForBudget => Volatile.Read(ref _skippedForBudget);

    /// <summary>Protection calls the OS refused while guarding or unguarding.</summary>
    public long RefusedByOs => Volatile.Read(ref _refusedByOs);

    /// <summary>
    /// Whether <paramref name="guardPages"/> more guard pages fit now; counts a skip when not. A
    /// cheap look before building the extent, so a skipped request does not map a bigger one.
    /// </summary>
    public bool HasRoomFor(int guardPages)
    {
        if (Account.InUse + (long)guardPages * GuardMappingAccount.MappingsPerGuardPage <= Limit) return true;
        Interlocked.Increment(ref _skippedForBudget);
        return false;
    }

    /// <summary>Charges <paramref name="guardPages"/> guard pages; false, counted as a skip, past the limit.</summary>
    public bool TryCharge(int guardPages)
    {
        if (!Account.TryCharge((long)guardPages * GuardMappingAccount.MappingsPerGuardPage, Limit))
        {
            Interlocked.Increment(ref _skippedForBudget);
            return false;
        }

        Interlocked.Add(ref _guardPages, guardPages);
        return true;
    }

    /// <summary>Gives back the charge of <paramref name="guardPages"/> guard pages.</summary>
    public void Release(int guardPages)
    {
        long left = Interlocked.Add(ref _guardPages, -guardPages);
        Debug.Assert(left >= 0, "a shard released more guard pages than it charged");
        Account.Release((long)guardPages * GuardMappingAccount.MappingsPerGuardPage);
    }

    /// <summary>Counts one protection call the OS refused.</summary>
    public void CountRefusal() => Interlocked.Increment(ref _refusedByOs);
}
