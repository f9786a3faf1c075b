using System;
using System.Linq;
using Allocator.Tests.Infrastructure;

namespace Allocator.Tests.Stats;

/// <summary>
/// The first arena creates the meter unless the application switched metrics off with the runtime's
/// feature switch; then the metrics assembly (and the ICU it loads) stays out of the process. Each
/// case runs in a fresh child process, since the meter is process-wide.
/// </summary>
public sealed unsafe class MetricsSwitchTests
{
    private const string MetricsAssembly = "System.Diagnostics.DiagnosticSource";
    private const string Switch = "System.Diagnostics.Metrics.Meter.IsSupported";

    private static bool MetricsLoaded() =>
        AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == MetricsAssembly);

    // args[0]: "on", "off" or "unset"; exit 0 when the metrics assembly is loaded after the first
    // arena, 1 when it is not, 2 when it was loaded before any arena.
    internal static int CreateAnArena(string[] args)
    {
        if (args[0] != "unset") AppContext.SetSwitch(Switch, args[0] == "on");
        if (MetricsLoaded()) return 2;
        using Arena arena = Arena.Create();
        void* p = arena.Allocate(64);
        arena.Free(p);
        return MetricsLoaded() ? 0 : 1;
    }

    // With the switch off the meter still exists for a caller that asks for it by name.
    internal static int AskForTheMeter()
    {
        AppContext.SetSwitch(Switch, false);
        using Arena arena = Arena.Create();
        return AllocatorMetrics.Meter.Name == AllocatorMetrics.MeterName && MetricsLoaded() ? 0 : 1;
    }

    [Theory]
    [InlineData("unset", 0)]
    [InlineData("on", 0)]
    [InlineData("off", 1)]
    public void TheFirstArenaCreatesTheMeterUnlessMetricsAreSwitchedOff(string setting, int expected)
    {
        ChildResult run = ChildProcess.Run(CreateAnArena, new[] { setting });
        Assert.True(run.ExitCode == expected, run.ToString());
    }

    [Fact]
    public void TheMeterIsCreatedOnDemandWhenMetricsAreSwitchedOff()
    {
        ChildResult run = ChildProcess.Run(AskForTheMeter);
        Assert.True(run.ExitCode == 0, run.ToString());
    }
}
