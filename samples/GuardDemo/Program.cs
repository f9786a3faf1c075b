using System;
using System.Diagnostics;
using Allocator;

namespace GuardDemo;

/// <summary>Every large block gets guard pages: a one-byte overflow stops the process at once.</summary>
[Arena]
[Guards(SmallEvery = 1, LargeEvery = 1)]
public sealed partial class GuardedArena;

public static unsafe class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "overflow") return Overflow(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture));

        // The overflow kills the process that makes it (.NET turns the fault into a fatal
        // AccessViolationException), so the demo runs it in a child process and reports how it died.
        Console.WriteLine("writing the last byte of a guarded 40,000-byte block (in bounds):");
        Report(RunChild(-1));
        Console.WriteLine("writing one byte past its end:");
        Report(RunChild(0));
        return 0;
    }

    private static int Overflow(int offset)
    {
        using var arena = new GuardedArena();
        byte* block = (byte*)arena.Allocate(40_000);
        byte* target = block + arena.UsableSize(block) + offset;
        Console.WriteLine($"  child: block at 0x{(nuint)block:x}, writing at 0x{(nuint)target:x}");
        Console.Out.Flush();
        *target = 42;
        Console.WriteLine("  child: the write went through");
        return 0;
    }

    private static (int ExitCode, string Output, string Error) RunChild(int offset)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // Run under the same host: "dotnet GuardDemo.dll" when launched that way.
        string self = typeof(Program).Assembly.Location;
        if (Environment.ProcessPath!.EndsWith("dotnet", StringComparison.Ordinal)) start.ArgumentList.Add(self);
        start.ArgumentList.Add("overflow");
        start.ArgumentList.Add(offset.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var child = Process.Start(start)!;
        string output = child.StandardOutput.ReadToEnd();
        string error = child.StandardError.ReadToEnd();
        child.WaitForExit();
        return (child.ExitCode, output, error);
    }

    private static void Report((int ExitCode, string Output, string Error) r)
    {
        Console.Write(r.Output);
        string first = Array.Find(r.Error.Split('\n'), l => l.Contains("AccessViolation", StringComparison.Ordinal)) ?? "";
        Console.WriteLine(r.ExitCode == 134
            ? $"  parent: the child was stopped at once (exit 134, SIGABRT): {first.Trim()}"
            : $"  parent: the child exited with {r.ExitCode}");
    }
}
