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
