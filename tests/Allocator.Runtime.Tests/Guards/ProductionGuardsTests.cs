using System;
using System.Collections.Generic;
using System.Globalization;
using Allocator.Tests.Infrastructure;

namespace Allocator.Tests.Guards;

/// <summary>
/// Guards as a long-running server would leave them on (docs/configuration.md, "Guard pages in
/// production"): a mixed workload finishes with every block intact, and a one-byte overflow out
/// of a guarded block still kills the process. Each runs in a child process.
/// </summary>
public sealed unsafe class ProductionGuardsTests
{
    private const string Intact = "every block intact";
    private const string Armed = "about to write at ";
    private const string Survived = "the write returned";

    // args[0]: MiB to allocate in total.
    internal static int RunServerWorkload(string[] args)
    {
        long bytes = long.Parse(args[0], CultureInfo.InvariantCulture) << 20;
        using Arena arena = Arena.Create(GuardedServerWorkload.ServerOptions());
        string? corruption = GuardedServerWorkload.Run(arena, bytes, threads: 2, Console.WriteLine);
        if (corruption is not null)
        {
            Console.WriteLine(corruption);
            return 1;
        }

        Console.WriteLine(Intact);
        return 0;
    }

    // args: "large" or "small", then the offset from the block's end (0 = one past it, -1 = its last byte).
    internal static int OverflowAfterServerWorkload(string[] args)
    {
        bool large = args[0] == "large";
        int offset = int.Parse(args[1], CultureInfo.InvariantCulture);
        Arena arena = Arena.Create(GuardedServerWorkload.ServerOptions());
        if (GuardedServerWorkload.Run(arena, 32 << 20, threads: 2, Console.WriteLine) is string corruption)
        {
            Console.WriteLine(corruption);
            return 1;
        }

        // One block in 64 is guarded: take a few hundred and find one whose end touches a guard page
        // (4 KiB is a one-region slab, so a guarded one ends at its slab's guard).
        nuint size = large ? 40_000u : 4_096u;
        var blocks = new List<nint>();
        for (int i = 0; i < 400; i++) blocks.Add((nint)arena.Allocate(size));
        var guards = new HashSet<nuint>();
        foreach (AddressSpaceRegion r in arena.GetAddressSpace())
        {
            if (r.Kind == AddressSpaceKind.Guard) guards.Add(r.Start);
        }

        foreach (nint b in blocks)
        {
            byte* p = (byte*)b;
            nuint usable = arena.UsableSize(p);
            if (!guards.Contains((nuint)(p + usable))) continue;
            byte* target = p + usable + offset;
            Console.WriteLine(Armed + "0x" + ((nuint)target).ToString("x", CultureInfo.InvariantCulture));
            Console.Out.Flush();
            *target = 1;
            Console.WriteLine(Survived);
            return 0;
        }

        Console.WriteLine("no guarded block among 400");
        return 2;
    }

    [Fact]
    public void WithTheServerSettingsAMixedGuardedWorkloadFinishesIntact()
    {
        ChildResult run = ChildProcess.Run(RunServerWorkload, new[] { "512" }, TimeSpan.FromMinutes(5));
        Assert.False(run.TimedOut, run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains(Intact, run.StandardOutput);
        Assert.DoesNotContain("peak guard mappings 0 ", run.StandardOutput);
    }

    [Theory]
    [InlineData("large")]
    [InlineData("small")]
    public void WithTheServerSettingsAOneByteOverflowOfAGuardedBlockIsStillCaught(string kind)
    {
        ChildResult hit = ChildProcess.Run(OverflowAfterServerWorkload, new[] { kind, "0" }, TimeSpan.FromMinutes(2));
        Assert.False(hit.TimedOut, hit.ToString());
        Assert.True(hit.ExitCode == ChildResult.SigAbrtExitCode, hit.ToString());
        Assert.Contains(Armed, hit.StandardOutput);
        Assert.DoesNotContain(Survived, hit.StandardOutput);
        Assert.Contains("AccessViolation", hit.StandardError);

        // The same program writing the block's own last byte runs to the end.
        ChildResult control = ChildProcess.Run(OverflowAfterServerWorkload, new[] { kind, "-1" }, TimeSpan.FromMinutes(2));
        Assert.True(control.ExitCode == 0, control.ToString());
        Assert.Contains(Survived, control.StandardOutput);
    }
}
