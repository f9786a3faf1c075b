using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Allocator.Bench.Harness;
using Allocator.Bench.Peers;
using Allocator.Bench.Report;
using Allocator.Bench.Sqlite;
using Allocator.Bench.Suite;

namespace Allocator.Bench;

public static class Program
{
    private const string Usage = """
        Allocator.Bench: the project's arena against jemalloc, mimalloc, tcmalloc, glibc, ArrayPool and new byte[].

          all       [--out DIR] [--peers a,b]   every workload and the memory run, full length (a few minutes)
          quick     [--out DIR] [--peers a,b]   the same, short (for development)
          timings   [--quick] [--out DIR] [--peers a,b]   the timed workloads only
          memory    [--quick] [--out DIR] [--peers a,b]   the memory run only
          suite     [--quick] [--out DIR] [--peers a,b] [--workloads a,b]   the ported mimalloc-bench workloads,
                    each run in its own process (default peers: the unsized rows)
          list                                  which peers load here, and why the others do not
          specialization [--quick] [--out DIR]  the generated arena against Arena.Create with the same settings
          bdn       [--peers a,b] [BenchmarkDotNet arguments]   the pair workloads under BenchmarkDotNet
          loop      --peer ID --workload ID [--seconds S] [--operations N] [--quick]   one workload, repeated,
                    for a profiler; stops after S seconds or N operations (whole runs), whichever is first
          hugepages [--quick] [--out DIR]      issue 14's hugepage goals: Off, Eager and Lazy arenas against
                    jemalloc with and without MALLOC_CONF=hpa:true, each in its own process
          sqlite    [--rows N] [--rounds R] [--out DIR] [--peers a,b]   issue 17's SQLite job (samples/SqliteOnArena)
                    on the arena and on glibc, jemalloc, mimalloc, tcmalloc through the same callback layer, each
                    run in its own process, rounds interleaved (default 200000 rows, 5 rounds, every peer)
          sqlite-child --peer ID --rows N       (internal) one run of the SQLite job in this process
          memory-child --peer ID --bytes N      (internal) one peer's memory run in this process
          hugepage-child --peer ID --bytes N --reads R --wait-ms W   (internal) one peer's hugepage run
          suite-child --peer ID --workload ID --mode full|quick   (internal) one suite run in this process

          --subject ID  check the goals for this form of the arena (arena, arena-sealed, arena-generated;
                        default arena: Arena.Create() held as Arena)
          --no-reexec   do not restart with GLIBC_TUNABLES (jemalloc will then be skipped)
        Peer ids (each allocator through its unsized free, and with -sized through its sized free):
          arena[-sized] (Arena.Create() as Arena), arena-sealed[-sized], arena-generated[-sized],
          jemalloc[-sized] (free / sdallocx), mimalloc[-sized] (mi_free / mi_free_size),
          tcmalloc[-sized] (tc_free / tc_free_sized), glibc, arraypool, gcarray.
        Suite workloads: cache-scratch, cache-thrash, glibc-simple, glibc-thread, rptest, sh6bench, alloc-test, malloc-large.
        `all` and `quick` run the timings, the memory run and the suite.
        Workload ids: pair-64, pair-256, pair-4096, pair-65536, pair-1048576, live-set, cross-thread.
        """;

    public static int Main(string[] args)
    {
        var options = new Options(args);
        if (!options.Has("--no-reexec") && Tunables.ReExecuteIfNeeded(args) is int exitCode)
            return exitCode;

        switch (options.Command)
        {
            case "all":
                return Run(RunSettings.Full, options, timings: true, memory: true) | RunSuite(SuiteScale.Full, options);
            case "quick":
                return Run(RunSettings.Quick, options, timings: true, memory: true) | RunSuite(SuiteScale.Quick, options);
            case "suite":
                return RunSuite(options.Has("--quick") ? SuiteScale.Quick : SuiteScale.Full, options);
            case "suite-child":
                return SuiteRunner.Child(
                    options.Value("--peer") ?? throw new ArgumentException("suite-child needs --peer"),
                    options.Value("--workload") ?? throw new ArgumentException("suite-child needs --workload"),
                    options.Value("--mode") ?? "full");
            case "timings":
                return Run(options.Has("--quick") ? RunSettings.Quick : RunSettings.Full, options, timings: true, memory: false);
            case "memory":
                return Run(options.Has("--quick") ? RunSettings.Quick : RunSettings.Full, options, timings: false, memory: true);
            case "list":
                return List();
            case "specialization":
                return Specialization.Run(options.Value("--out") ?? DefaultOutput(), options.Has("--quick"));
            case "bdn":
                return Bdn.PairBenchmarks.Run(options.WithoutOwn(), SelectPeers(options.Value("--peers")));
            case "loop":
                return Loop.Run(
                    options.Value("--peer") ?? throw new ArgumentException("loop needs --peer"),
                    options.Value("--workload") ?? throw new ArgumentException("loop needs --workload"),
                    double.Parse(options.Value("--seconds") ?? "10", CultureInfo.InvariantCulture),
                    options.Has("--quick"),
                    long.Parse(options.Value("--operations") ?? long.MaxValue.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture));
            case "hugepages":
                return HugePageReport.Run(options.Has("--quick"), options.Value("--out") ?? DefaultOutput(), string.Join(' ', args));
            case "hugepage-child":
                return HugePageReport.Child(
                    options.Value("--peer") ?? throw new ArgumentException("hugepage-child needs --peer"),
                    long.Parse(options.Value("--bytes") ?? "1073741824", CultureInfo.InvariantCulture),
                    int.Parse(options.Value("--reads") ?? "20000000", CultureInfo.InvariantCulture),
                    int.Parse(options.Value("--wait-ms") ?? "0", CultureInfo.InvariantCulture));
            case "sqlite":
                return SqliteBench.Run(
                    options.Value("--peers") is { } sqlitePeers
                        ? sqlitePeers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                        : SqliteBench.AllPeers,
                    int.Parse(options.Value("--rows") ?? "200000", CultureInfo.InvariantCulture),
                    int.Parse(options.Value("--rounds") ?? "5", CultureInfo.InvariantCulture),
                    options.Value("--out") ?? DefaultOutput(),
                    string.Join(' ', args));
            case "sqlite-child":
                return SqliteBench.Child(
                    options.Value("--peer") ?? throw new ArgumentException("sqlite-child needs --peer"),
                    int.Parse(options.Value("--rows") ?? throw new ArgumentException("sqlite-child needs --rows"), CultureInfo.InvariantCulture));
            case "memory-child":
                return Runner.MemoryChild(
                    options.Value("--peer") ?? throw new ArgumentException("memory-child needs --peer"),
                    long.Parse(options.Value("--bytes") ?? throw new ArgumentException("memory-child needs --bytes"), CultureInfo.InvariantCulture));
            default:
                Console.Error.WriteLine(Usage);
                return options.Command is null or "help" or "--help" or "-h" ? 0 : 2;
        }
    }

    private static int Run(RunSettings settings, Options options, bool timings, bool memory)
    {
        IReadOnlyList<PeerDescriptor> peers = SelectPeers(options.Value("--peers"));
        string outDir = options.Value("--out") ?? DefaultOutput();
        Directory.CreateDirectory(outDir);

        RunReport report = Runner.Run(settings, peers, timings, memory, options.Value("--subject"));

        string stem = settings == RunSettings.Full ? "results" : "quick";
        if (!(timings && memory))
            stem += timings ? "-timings" : "-memory";
        string timingsSvg = stem + "-timings.svg", memorySvg = stem + "-memory.svg";
        if (timings)
        {
            File.WriteAllText(Path.Combine(outDir, timingsSvg), Svg.Timings(report));
            File.WriteAllText(Path.Combine(outDir, stem + "-timings.csv"), Csv.Timings(report));
        }
        if (memory && report.Memory.Any(m => m.Result is not null))
            File.WriteAllText(Path.Combine(outDir, memorySvg), Svg.Memory(report));
        string mdPath = Path.Combine(outDir, stem + ".md");
        File.WriteAllText(mdPath, MarkdownReport.Write(report, timingsSvg, memorySvg));
        Console.WriteLine($"Wrote {mdPath}");
        return 0;
    }

    private static int RunSuite(SuiteScale scale, Options options)
    {
        string? list = options.Value("--peers");
        IReadOnlyList<PeerDescriptor> peers = SelectPeers(string.IsNullOrWhiteSpace(list) ? string.Join(',', SuiteRunner.DefaultPeers) : list);
        IReadOnlyList<SuiteWorkload> workloads = options.Value("--workloads") is { } names
            ? names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(n => SuiteCatalog.Find(n) ?? throw new ArgumentException($"Unknown suite workload '{n}'. Known: {string.Join(", ", SuiteCatalog.All.Select(w => w.Id))}."))
                .ToArray()
            : SuiteCatalog.All;
        string outDir = options.Value("--out") ?? DefaultOutput();
        Directory.CreateDirectory(outDir);
        SuiteReport report = SuiteRunner.Run(scale, peers, workloads);
        string path = Path.Combine(outDir, scale == SuiteScale.Full ? "suite.md" : "suite-quick.md");
        File.WriteAllText(path, SuiteMarkdown.Write(report));
        Console.WriteLine($"Wrote {path}");
        return 0;
    }

    private static int List()
    {
        foreach (PeerDescriptor d in PeerRegistry.All)
        {
            PeerProbe probe = d.Probe();
            Console.WriteLine(probe.Entry is { } e ? $"{d.Id,-22} {e.Description}" : $"{d.Id,-10} skipped: {probe.SkipReason}");
        }
        return 0;
    }

    private static IReadOnlyList<PeerDescriptor> SelectPeers(string? list)
    {
        if (string.IsNullOrWhiteSpace(list))
            return PeerRegistry.All;
        var chosen = new List<PeerDescriptor>();
        foreach (string name in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            chosen.Add(PeerRegistry.Find(name) ?? throw new ArgumentException($"Unknown peer '{name}'. Known: {string.Join(", ", PeerRegistry.All.Select(p => p.Id))}."));
        return chosen;
    }

    /// <summary>bench/results in the repository this program is run from (found by Allocator.sln).</summary>
    private static string DefaultOutput()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Allocator.sln")))
                return Path.Combine(dir.FullName, "bench", "results");
        return Path.Combine(Environment.CurrentDirectory, "bench-results");
    }

    /// <summary>The first argument is the command; then flags and "--name value" pairs.</summary>
    private sealed class Options(string[] args)
    {
        public string? Command { get; } = args.Length > 0 ? args[0] : null;

        public bool Has(string flag) => args.Contains(flag);

        public string? Value(string name)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }

        /// <summary>The arguments after the command without this program's own options, for
        /// handing to BenchmarkDotNet.</summary>
        public string[] WithoutOwn()
        {
            var rest = new List<string>();
            for (int i = 1; i < args.Length; i++)
            {
                if (args[i] == "--peers")
                    i++;
                else if (args[i] != "--no-reexec")
                    rest.Add(args[i]);
            }
            return rest.ToArray();
        }
    }
}
