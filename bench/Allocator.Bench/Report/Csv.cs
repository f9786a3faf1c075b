using System.Globalization;
using System.Text;
using Allocator.Bench.Harness;

namespace Allocator.Bench.Report;

/// <summary>Every timed cell with all its statistics, for anyone who wants more than the median.</summary>
public static class Csv
{
    public static string Timings(RunReport r)
    {
        var csv = new StringBuilder("workload,peer,median_ns,p25_ns,p75_ns,min_ns,max_ns,runs,ops_per_run\n");
        foreach (TimingResult t in r.Timings)
        {
            Stats s = t.Stats;
            csv.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{t.Workload.Id},\"{t.Peer}\",{s.Median:F3},{s.P25:F3},{s.P75:F3},{s.Min:F3},{s.Max:F3},{s.Runs},{s.OpsPerRun}"));
        }
        return csv.ToString();
    }
}
