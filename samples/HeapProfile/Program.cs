// Where is my native memory? A heap profile of an arena, its pprof and folded-stack files, and the
// leak report of an arena disposed with blocks still allocated.
//
//   dotnet run --project samples/HeapProfile [output-folder]
//   go tool pprof -top <output-folder>/heap.pb.gz      (or open it in Grafana/Pyroscope)
//   flamegraph.pl <output-folder>/heap.folded > heap.svg
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using Allocator;
using Allocator.Profiling;

unsafe
{
    string folder = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "allocator-heap-profile");
    Directory.CreateDirectory(folder);

    // 1. Profiling at jemalloc's default interval: a sample every 512 KiB on average, cheap enough to leave on.
    using (Arena arena = Arena.Create(new ArenaOptions { ProfileSampleBytes = 1 << 19 }))
    {
        var cache = Workload.FillCache(arena, 200_000);
        var buffers = Workload.RentBuffers(arena, 300);
        HeapProfile profile = arena.GetHeapProfile();
        Console.WriteLine($"Sampled every {profile.SampleInterval} bytes: about {profile.LiveBytes / 1_000_000} MB live, {profile.AllocatedBytes / 1_000_000} MB allocated since creation.");
        foreach (HeapProfileSite site in profile.Sites.Take(3))
            Console.WriteLine($"  {site.LiveBytes / 1_000_000,5} MB in ~{site.LiveCount} blocks from {site.Frames[0]}");

        using (FileStream pprof = File.Create(Path.Combine(folder, "heap.pb.gz"))) profile.WritePprof(pprof);
        using (StreamWriter folded = File.CreateText(Path.Combine(folder, "heap.folded"))) profile.WriteFolded(folded);
        Console.WriteLine($"Wrote {folder}/heap.pb.gz and heap.folded.");
        foreach (nint p in cache.Concat(buffers)) arena.Free((void*)p);
    }

    // 2. Leak reports: every block is sampled, and Dispose names what is still allocated. Declared
    // on the arena type (below); Arena.Create(new ArenaOptions { LeakReport = true }) does the same at run time.
    var leaky = new LeakCheckedArena();
    leaky.LeaksFound += (_, report) => Console.Write(report.ToText());
    var kept = Workload.FillCache(leaky.Core, 1_000);
    foreach (nint p in kept.Skip(10)) leaky.Free((void*)p);
    Workload.RentBuffers(leaky.Core, 2);
    leaky.Dispose();
}

/// <summary>An arena for tests and debugging runs: each small block takes a page, and Dispose reports leaks.</summary>
[Arena(LeakReport = true)]
sealed partial class LeakCheckedArena;

static unsafe class Workload
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static List<nint> FillCache(Arena arena, int entries)
    {
        var list = new List<nint>(entries);
        for (int i = 0; i < entries; i++) list.Add((nint)arena.Allocate((nuint)(64 + i % 200)));
        return list;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static List<nint> RentBuffers(Arena arena, int count)
    {
        var list = new List<nint>(count);
        for (int i = 0; i < count; i++) list.Add((nint)arena.Allocate(256 << 10));
        return list;
    }
}
