namespace Allocator.Sizing;

public sealed partial class SizeClasses
{
    /// <summary>Smallest accepted page exponent (4 KiB).</summary>
    public const int MinLgPage = 12;

    /// <summary>Largest accepted page exponent (64 KiB).</summary>
    public const int MaxLgPage = 16;

    /// <summary>Smallest class exponent: a class must hold a pointer (jemalloc's SC_LG_TINY_MIN).</summary>
    public const int MinLgTinyMin = 3;

    /// <summary>Largest accepted group exponent (at most 16 classes per doubling).</summary>
    public const int MaxLgGroup = 4;

    /// <summary>
    /// Most classes a configuration may have: extent metadata stores a size index in ten bits, and
    /// one value must remain to mean "no class". Every configuration <see cref="MaxLgGroup"/> allows
    /// fits (16 classes per doubling over an 8-byte quantum give 911).
    /// </summary>
    public const int MaxClassCount = 1023;

    /// <summary>
    /// Checks a configuration without building it. The analyzers call this so that the rules
    /// they report and the runtime's constructor cannot disagree.
    /// </summary>
    /// <param name="lgQuantum">Log2 of the quantum: at least 3 and below <paramref name="lgPage"/>, and with <paramref name="lgGroup"/> at most 11.</param>
    /// <param name="lgPage">Log2 of the page size, <see cref="MinLgPage"/> to <see cref="MaxLgPage"/>.</param>
    /// <param name="lgGroup">Log2 of the classes per doubling, 0 to <see cref="MaxLgGroup"/>.</param>
    /// <param name="lgTinyMin">Log2 of the smallest class, <see cref="MinLgTinyMin"/> to <paramref name="lgQuantum"/>.</param>
    /// <param name="parameterName">On failure, the name of the parameter to blame; otherwise null.</param>
    /// <param name="error">On failure, what is wrong and what is allowed; otherwise null.</param>
    /// <returns>True when the configuration is valid.</returns>
    public static bool TryValidate(int lgQuantum, int lgPage, int lgGroup, int lgTinyMin, out string? parameterName, out string? error) =>
        TryBuild(lgQuantum, lgPage, lgGroup, lgTinyMin, out _, out parameterName, out error);

    /// <summary>Validates and, on success, hands back the built table so the constructor builds it once.</summary>
    private static bool TryBuild(int lgQuantum, int lgPage, int lgGroup, int lgTinyMin, out SizeClassTable? table, out string? parameterName, out string? error)
    {
        table = null;
        parameterName = null;
        error = null;
        if (lgPage < MinLgPage || lgPage > MaxLgPage)
        {
            return Fail(nameof(lgPage), "lgPage must be between " + MinLgPage + " and " + MaxLgPage + " (4 KiB to 64 KiB pages); it is " + lgPage + ".", out parameterName, out error);
        }

        // Below the page, every page multiple up to 2^(lgPage + lgGroup) is a class, which the
        // page-size-class arithmetic and the slab search rely on.
        if (lgQuantum < MinLgTinyMin || lgQuantum >= lgPage)
        {
            return Fail(nameof(lgQuantum), "lgQuantum must be between " + MinLgTinyMin + " and lgPage - 1 (" + (lgPage - 1) + "); it is " + lgQuantum + ".", out parameterName, out error);
        }

        if (lgTinyMin < MinLgTinyMin || lgTinyMin > lgQuantum)
        {
            return Fail(nameof(lgTinyMin), "lgTinyMin must be between " + MinLgTinyMin + " and lgQuantum (" + lgQuantum + "); it is " + lgTinyMin + ".", out parameterName, out error);
        }

        if (lgGroup < 0 || lgGroup > MaxLgGroup)
        {
            return Fail(nameof(lgGroup), "lgGroup must be between 0 and " + MaxLgGroup + "; it is " + lgGroup + ".", out parameterName, out error);
        }

        // jemalloc's size-to-index lookup ends at 4096 and switches to arithmetic above; that
        // arithmetic is only right from the regular groups on, so 4096 must be in one.
        if (lgQuantum + lgGroup >= SizeClassTable.LgMaxLookup)
        {
            return Fail(nameof(lgQuantum), "lgQuantum + lgGroup must be at most " + (SizeClassTable.LgMaxLookup - 1) + " so that the 4096-byte lookup table ends in a regular group; they are " + lgQuantum + " + " + lgGroup + ".", out parameterName, out error);
        }

        // A slab's region bitmap has SlabMaxRegions bits; check every bin against it.
        ulong page = 1UL << lgPage;
        int maxRegions = 1 << (lgPage - lgTinyMin);
        SizeClassTable built = SizeClassTable.Build(lgQuantum, lgPage, lgGroup, lgTinyMin);
        foreach (SizeClass sc in built.Classes)
        {
            if (sc.IsBin && (ulong)sc.SlabPages * page / sc.Size > (ulong)maxRegions)
            {
                return Fail(nameof(lgTinyMin), "the " + sc.Size + "-byte bin would hold more than " + maxRegions + " regions per slab.", out parameterName, out error);
            }
        }

        table = built;
        return true;
    }

    private static bool Fail(string name, string message, out string? parameterName, out string? error)
    {
        parameterName = name;
        error = message;
        return false;
    }
}
