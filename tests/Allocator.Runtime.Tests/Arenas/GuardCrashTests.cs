using System;
using System.Globalization;
using Allocator.Tests.Infrastructure;

namespace Allocator.Tests.Arenas;

/// <summary>
/// A guard-page hit is a fatal AccessViolationException in .NET (the runtime aborts), so each case
/// runs in a child process and the parent checks how it died.
/// </summary>
public sealed unsafe class GuardCrashTests
{
    private const string Armed = "about to write at ";
    private const string Survived = "the write returned";

    internal static int OverflowGuardedLarge(string[] args) => Write(args, large: true);

    internal static int OverflowGuardedSlab(string[] args) => Write(args, large: false);

    // args: size, offset from the block's end (0 = one past it) or, with "under", from its start (-1 = one before it).
    internal static int WriteAtClass(string[] args)
    {
        nuint size = nuint.Parse(args[0], CultureInfo.InvariantCulture);
        bool under = args[1] == "under";
        int offset = int.Parse(args[2], CultureInfo.InvariantCulture);
        var arena = Arena.Create(new ArenaOptions { GuardLargeEvery = 1, GuardSmallEvery = 1, ThreadCache = false });
        // Take every region of the slab, so the last one touches the slab's right guard.
        byte* p = null;
        nuint usable = 0;
        for (int i = 0; i < 1024; i++)
        {
            p = (byte*)arena.Allocate(size);
            usable = arena.UsableSize(p);
            if (((nuint)(p + usable) & (nuint)(Environment.SystemPageSize - 1)) == 0 && IsLastOfExtent(arena, p + usable)) break;
        }

        byte* target = under ? p + offset : p + usable + offset;
        Console.WriteLine(Armed + "0x" + ((nuint)target).ToString("x", CultureInfo.InvariantCulture));
        Console.Out.Flush();
        *target = 1;
        Console.WriteLine(Survived);
        return 0;
    }

    private static bool IsLastOfExtent(Arena arena, byte* end)
    {
        foreach (AddressSpaceRegion r in arena.GetAddressSpace())
        {
            if (r.Kind == AddressSpaceKind.Guard && r.Start == (nuint)end) return true;
        }

        return false;
    }

    public static TheoryData<ulong, bool> GuardedClasses()
    {
        var data = new TheoryData<ulong, bool>();
        // Every small class (each is a slab with the bump region's right guard after its last
        // region) and the first large classes, overflowing; large ones also underflowing into
        // their left guard. About 16 s for the 52 child processes on 2 cores.
        var classes = Allocator.Sizing.SizeClasses.Default;
        for (int i = 0; i < classes.BinCount + 8; i++)
        {
            ulong size = classes.IndexToSize(i);
            data.Add(size, false);
            if (i >= classes.BinCount) data.Add(size, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(GuardedClasses))]
    public void OneByteOutsideAGuardedClassKillsTheProcess(ulong size, bool underflow)
    {
        string[] args = underflow ? new[] { size.ToString(CultureInfo.InvariantCulture), "under", "-1" } : new[] { size.ToString(CultureInfo.InvariantCulture), "over", "0" };
        ChildResult hit = ChildProcess.Run(WriteAtClass, args);
        Assert.False(hit.TimedOut);
        Assert.True(hit.ExitCode == ChildResult.SigAbrtExitCode, $"exit {hit.ExitCode}: {hit.StandardOutput} {hit.StandardError}");
        Assert.Contains("AccessViolation", hit.StandardError);
        Assert.DoesNotContain(Survived, hit.StandardOutput);

        string[] inside = underflow ? new[] { args[0], "under", "0" } : new[] { args[0], "over", "-1" };
        ChildResult control = ChildProcess.Run(WriteAtClass, inside);
        Assert.True(control.ExitCode == 0, $"control exit {control.ExitCode}: {control.StandardError}");
    }

    // args[0]: the offset from the end of the block to write at (0 = one byte past the end, -1 = the last byte).
    private static int Write(string[] args, bool large)
    {
        int offset = int.Parse(args[0], CultureInfo.InvariantCulture);
        var arena = Arena.Create(new ArenaOptions { GuardLargeEvery = large ? 1 : 0, GuardSmallEvery = large ? 0 : 1, ThreadCache = false });
        // 4 KiB is a one-region slab, so its end is the slab's end and the bump guard follows it.
        nuint size = large ? 40_000u : 4096u;
        byte* p = (byte*)arena.Allocate(size);
        byte* target = p + arena.UsableSize(p) + offset;
        Console.WriteLine(Armed + "0x" + ((nuint)target).ToString("x", CultureInfo.InvariantCulture));
        Console.Out.Flush();
        *target = 1;
        Console.WriteLine(Survived);
        arena.Dispose();
        return 0;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AOneByteOverflowPastAGuardedBlockKillsTheProcessAtOnce(bool large)
    {
        Func<string[], int> scenario = large ? OverflowGuardedLarge : OverflowGuardedSlab;
        ChildResult overflow = ChildProcess.Run(scenario, new[] { "0" });
        Assert.False(overflow.TimedOut);
        Assert.Equal(ChildResult.SigAbrtExitCode, overflow.ExitCode);
        Assert.Contains(Armed, overflow.StandardOutput);
        Assert.DoesNotContain(Survived, overflow.StandardOutput);
        Assert.Contains("AccessViolation", overflow.StandardError);

        // The same program writing its own last byte runs to the end.
        ChildResult control = ChildProcess.Run(scenario, new[] { "-1" });
        Assert.Equal(0, control.ExitCode);
        Assert.Contains(Survived, control.StandardOutput);
    }
}
