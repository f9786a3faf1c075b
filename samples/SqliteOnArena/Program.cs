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
    private const string Usage =
        "usage: SqliteOnArena [arena|arena-guarded|glibc] [rows]   (rows: a positive integer, 50000 by default)\n" +
        "       SqliteOnArena overflow arena|arena-guarded         (SQLite reads a BLOB past a buffer's end)";

    /// <summary>
    /// Usage: <c>SqliteOnArena [arena|arena-guarded|glibc] [rows]</c> (arena and 50,000 rows by
    /// default) runs the job; <c>SqliteOnArena overflow arena|arena-guarded</c> makes SQLite write
    /// past a block's end (with guards the process dies of SIGSEGV at the guard page).
    /// </summary>
    public static int Main(string[] args)
    {
        if (args.Length == 2 && args[0] == "overflow" && args[1] is "arena" or "arena-guarded")
        {
            Install(args[1]);
            return Overflow.Run(args[1] == "arena" ? SqliteArena.Shared.Core : GuardedSqliteArena.Shared.Core);
        }

        string mode = args.Length > 0 ? args[0] : "arena";
        int rows = 50_000;
        if ((mode is not ("arena" or "arena-guarded" or "glibc")) || args.Length > 2
            || (args.Length == 2 && (!int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out rows) || rows < 1)))
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        Install(mode);
        string source = mode switch
        {
            "arena" => "SqliteArena.Shared",
            "arena-guarded" => "GuardedSqliteArena.Shared",
            _ => "glibc malloc",
        };
        Console.WriteLine($"SQLite {raw.sqlite3_libversion().utf8_to_string()}, memory from {source}, {rows:N0} rows, {DatabaseJob.Threads} threads in one phase");

        JobResult result = DatabaseJob.Run(rows);
        Console.WriteLine(string.Join(", ", result.Phases.Select(static p => $"{p.Name} {p.Milliseconds} ms")));
        Console.WriteLine($"rows left: {result.RowsLeft:N0}");
        Console.WriteLine($"integrity_check: {result.IntegrityCheck}");
        Console.WriteLine($"checksum: {result.Checksum:x16}");
        Console.WriteLine($"SQLite's peak memory: {raw.sqlite3_memory_highwater(0):N0} bytes");

        // Everything SQLite still holds (caches, mutexes) goes back to the allocator here.
        int rc = raw.sqlite3_shutdown();
        if (rc != raw.SQLITE_OK) throw new InvalidOperationException($"sqlite3_shutdown returned {rc}");
        if (mode != "glibc")
        {
            Allocator.Arena arena = mode == "arena" ? SqliteArena.Shared.Core : GuardedSqliteArena.Shared.Core;
            arena.Validate();
            Console.WriteLine("validate: ok");
            // The thread caches' blocks count as allocated until flushed back to their bins: the
            // ended reader threads' caches by their finalizers, this thread's by the purge.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            arena.Purge();
            Console.WriteLine($"allocated after sqlite3_shutdown and a purge: {arena.GetStats().Allocated:N0} bytes");
            Console.WriteLine();
            Console.WriteLine(arena.GetStats());
        }

        return result.IntegrityCheck == "ok" ? 0 : 1;
    }

    private static void Install(string mode)
    {
        SqliteMalloc.Install(mode switch
        {
            "arena" => ArenaMemory.Methods,
            "arena-guarded" => GuardedArenaMemory.Methods,
            _ => GlibcMemory.Methods,
        });
        Batteries_V2.Init();
    }
}
