using System;
using System.IO;
using System.Runtime;
using System.Runtime.InteropServices;

namespace Allocator.Bench.Harness;

/// <summary>What the figures were measured on; printed at the head of every report.</summary>
public sealed record Machine(string Cpu, int LogicalCores, string Memory, string Os, string Runtime, string Gc, string LoadAverage)
{
    public static Machine Describe()
    {
        bool concurrent = AppContext.GetData("System.GC.Concurrent") is not false;
        string gc = (GCSettings.IsServerGC ? "server" : "workstation") + (concurrent ? ", concurrent" : ", non-concurrent");
        return new Machine(
            FirstValue("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString(),
            Environment.ProcessorCount,
            MemoryTotal(),
            RuntimeInformation.OSDescription,
            RuntimeInformation.FrameworkDescription,
            gc,
            LoadAverageNow());
    }

    /// <summary>The 1-minute load average: other work on the machine shows up as noise.</summary>
    public static string LoadAverageNow()
    {
        try
        {
            string text = File.ReadAllText("/proc/loadavg");
            int space = text.IndexOf(' ');
            return space < 0 ? text.Trim() : text[..space];
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static string MemoryTotal()
    {
        // /proc/meminfo says "MemTotal:       24684096 kB".
        string? text = FirstValue("/proc/meminfo", "MemTotal");
        return text is not null && long.TryParse(text.Split(' ')[0], out long kib)
            ? (kib / 1048576.0).ToString("F1", System.Globalization.CultureInfo.InvariantCulture) + " GiB"
            : "?";
    }

    private static string? FirstValue(string file, string key)
    {
        if (!File.Exists(file))
            return null;
        foreach (string line in File.ReadLines(file))
        {
            int colon = line.IndexOf(':');
            if (colon > 0 && line.AsSpan(0, colon).Trim().SequenceEqual(key))
                return line[(colon + 1)..].Trim();
        }
        return null;
    }
}
