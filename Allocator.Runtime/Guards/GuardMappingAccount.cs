using System;
using System.Diagnostics;
using System.Buffers.Text;
using System.IO;
using System.Text;
using System.Threading;

namespace Allocator.Guards;

/// <summary>
/// The memory mappings that guard pages cost, counted for the whole process. The kernel caps a
/// process's mappings (Linux's vm.max_map_count, 65,530 by default), and the .NET runtime dies when
/// it cannot map code or heap; each arena guards only while all arenas' guards together stay
/// within its share of that cap (<see cref="ArenaOptions.GuardMappingShare"/>).
/// </summary>
/// <remarks>
/// A guard page made inside one mapping splits it in three, so it costs up to
/// <see cref="MappingsPerGuardPage"/> mappings: a slab cut from the bump region (one guard page
/// after it) costs two, a large extent with a guard page on each side four. The charge is taken
/// before the protection call and released when the guard page is given back (unguarded, or
/// unmapped with its extent), so the account errs high, never low.
/// </remarks>
internal sealed class GuardMappingAccount
{
    /// <summary>The cap assumed when vm.max_map_count cannot be read (Linux's default).</summary>
    public const long FallbackMaxMapCount = 65_530;

    /// <summary>Mappings one guard page can add: the one it becomes and the one split off after it.</summary>
    public const int MappingsPerGuardPage = 2;

    private long _inUse;

    /// <summary>Creates an account for a process allowed <paramref name="maxMapCount"/> mappings.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxMapCount"/> is not positive.</exception>
    public GuardMappingAccount(long maxMapCount)
    {
        if (maxMapCount <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxMapCount), maxMapCount, "A process is allowed at least one mapping.");
        MaxMapCount = maxMapCount;
    }

    /// <summary>The account of this process, its cap read from /proc/sys/vm/max_map_count once, at first use.</summary>
    public static GuardMappingAccount Process { get; } = new(ReadMaxMapCount("/proc/sys/vm/max_map_count"));

    /// <summary>The most mappings the process may have.</summary>
    public long MaxMapCount { get; }

    /// <summary>Mappings the guard pages of every arena on this account may cost now.</summary>
    public long InUse => Volatile.Read(ref _inUse);

    /// <summary>The share of <see cref="MaxMapCount"/> that <paramref name="share"/> allows, in mappings.</summary>
    public long LimitFor(double share) => (long)Math.Floor(share * MaxMapCount);

    /// <summary>Charges <paramref name="mappings"/> unless the total would pass <paramref name="limit"/>.</summary>
    public bool TryCharge(long mappings, long limit)
    {
        while (true)
        {
            long used = Volatile.Read(ref _inUse);
            if (used + mappings > limit) return false;
            if (Interlocked.CompareExchange(ref _inUse, used + mappings, used) == used) return true;
        }
    }

    /// <summary>Gives back what <see cref="TryCharge"/> took.</summary>
    public void Release(long mappings)
    {
        long left = Interlocked.Add(ref _inUse, -mappings);
        Debug.Assert(left >= 0, "guard mappings released more often than charged");
    }

    /// <summary>The number in <paramref name="path"/>, or <see cref="FallbackMaxMapCount"/> when it cannot be read.</summary>
    internal static long ReadMaxMapCount(string path)
    {
        try
        {
            // Digits parsed as bytes: a culture-aware parse, even with the invariant culture, loads
            // ICU, megabytes of resident memory in a process that may never format a number.
            byte[] bytes = File.ReadAllBytes(path);
            ReadOnlySpan<byte> text = bytes.AsSpan(Ascii.Trim(bytes));
            return text.Length > 0 && char.IsAsciiDigit((char)text[0]) &&
                Utf8Parser.TryParse(text, out long n, out int consumed) && consumed == text.Length && n > 0
                ? n
                : FallbackMaxMapCount;
        }
        catch (IOException)
        {
            return FallbackMaxMapCount;
        }
        catch (UnauthorizedAccessException)
        {
            return FallbackMaxMapCount;
        }
    }
}
