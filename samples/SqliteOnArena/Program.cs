using System;
using System.Globalization;
using System.Linq;
using SQLitePCL;

namespace SqliteOnArena;

/// <summary>
/// SQLite with all its memory from a generated arena: <c>sqlite3_config(SQLITE_CONFIG_MALLOC)</c>
/// before any other SQLite call, then a database job, its checksum and the arena's statistics.
/// <c>glibc</c> runs the same job through the same callback layer over glibc's malloc.
/// </summary>
public static class Program
{
    /// <summary>Usage: <c>SqliteOnArena [arena|glibc] [rows]</c> (arena and 50,000 rows by default).</summary>
    public static int Main(string[] args)
    {
        string mode = args.Length > 0 ? args[0] : "arena";
        int rows = 50_000;
        if ((mode is not ("arena" or "glibc")) || args.Length > 2
            || (args.Length == 2 && (!int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out rows) || rows < 1)))
        {
            Console.Error.WriteLine("usage: SqliteOnArena [arena|glibc] [rows]   (rows: a positive integer, 50000 by default)");
            return 2;
        }

        SqliteMalloc.Install(mode == "arena" ? ArenaMemory.Methods : GlibcMemory.Methods);
        Batteries_V2.Init();
        Console.WriteLine($"SQLite {raw.sqlite3_libversion().utf8_to_string()}, memory from {(mode == "arena" ? "SqliteArena.Shared" : "glibc malloc")}, {rows:N0} rows");

        JobResult result = DatabaseJob.Run(rows);
        Console.WriteLine(string.Join(", ", result.Phases.Select(static p => $"{p.Name} {p.Milliseconds} ms")));
        Console.WriteLine($"rows left: {result.RowsLeft:N0}");
        Console.WriteLine($"integrity_check: {result.IntegrityCheck}");
        Console.WriteLine($"checksum: {result.Checksum:x16}");
        Console.WriteLine($"SQLite's peak memory: {raw.sqlite3_memory_highwater(0):N0} bytes");

        // Everything SQLite still holds (caches, mutexes) goes back to the allocator here.
        int rc = raw.sqlite3_shutdown();
        if (rc != raw.SQLITE_OK) throw new InvalidOperationException($"sqlite3_shutdown returned {rc}");
        if (mode == "arena")
        {
            SqliteArena.Shared.Validate();
            Console.WriteLine("validate: ok");
            // The thread cache's blocks count as allocated until flushed back to their bins.
            SqliteArena.Shared.Purge();
            Console.WriteLine($"allocated after sqlite3_shutdown and a purge: {SqliteArena.Shared.GetStats().Allocated:N0} bytes");
            Console.WriteLine();
            Console.WriteLine(SqliteArena.Shared.GetStats());
        }

        return result.IntegrityCheck == "ok" ? 0 : 1;
    }
}
