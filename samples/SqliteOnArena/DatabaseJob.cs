using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using SQLitePCL;

namespace SqliteOnArena;

/// <summary>What one run of <see cref="DatabaseJob"/> produced.</summary>
/// <param name="Checksum">Over every row and aggregate the job read back.</param>
/// <param name="IntegrityCheck">What <c>PRAGMA integrity_check</c> said ("ok" when the file is sound).</param>
/// <param name="RowsLeft">Rows left after the deletes.</param>
/// <param name="Phases">Each phase's name and wall-clock milliseconds, for the printout.</param>
public sealed record JobResult(ulong Checksum, string IntegrityCheck, long RowsLeft, (string Name, long Milliseconds)[] Phases);

/// <summary>
/// A database job of the kind an application runs: inserts in transactions, two indexes, grouped,
/// ranged and point queries, updates, deletes, a phase of <see cref="Threads"/> threads reading the
/// file through their own connections at once, and VACUUM, on a file in the temp directory. Every
/// value comes from a fixed seed, so any allocator underneath must give the same checksum.
/// </summary>
public static class DatabaseJob
{
    private const int RowsPerTransaction = 5_000;
    private const int PointLookups = 5_000;

    /// <summary>How many threads the concurrent phase runs, each with its own connection.</summary>
    public const int Threads = 3;

    /// <summary>Runs the job over <paramref name="rows"/> rows in a fresh file that is deleted afterwards.</summary>
    public static JobResult Run(int rows)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        string path = Path.Combine(Path.GetTempPath(), $"sqlite-on-arena-{Environment.ProcessId}.db");
        File.Delete(path);
        try
        {
            return Run(rows, path);
        }
        finally
        {
            File.Delete(path);
            File.Delete(path + "-journal");
        }
    }

    private static JobResult Run(int rows, string path)
    {
        var phases = new System.Collections.Generic.List<(string, long)>();
        var clock = Stopwatch.StartNew();
        void Phase(string name)
        {
            phases.Add((name, clock.ElapsedMilliseconds));
            clock.Restart();
        }

        var sum = new Checksum();
        Check(raw.sqlite3_open(path, out sqlite3 db), db, "open");
        using (db)
        {
            Exec(db, "PRAGMA synchronous = OFF; PRAGMA cache_size = -16000;");
            Exec(db, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, category INTEGER NOT NULL, price REAL NOT NULL, payload BLOB NOT NULL)");
            Insert(db, rows);
            Phase("insert");

            Exec(db, "CREATE INDEX items_by_category ON items (category, price)");
            Exec(db, "CREATE INDEX items_by_name ON items (name)");
            Phase("index");

            Query(db, sum);
            PointQueries(db, rows, sum);
            Phase("query");

            Exec(db, "BEGIN; UPDATE items SET price = price * 1.1, name = name || '-u' WHERE category % 7 = 0; " +
                     "UPDATE items SET payload = substr(payload, 1, length(payload) / 2) WHERE id % 5 = 0; COMMIT;");
            Phase("update");

            Exec(db, "DELETE FROM items WHERE id % 3 = 0");
            Phase("delete");

            Concurrent(path, rows, sum);
            Phase("threads");

            Query(db, sum);
            Exec(db, "VACUUM");
            Phase("vacuum");

            long left = 0;
            ForEachRow(db, "SELECT id, name, category, price, payload FROM items ORDER BY id", stmt =>
            {
                left++;
                sum.Add(raw.sqlite3_column_int64(stmt, 0));
                sum.Add(raw.sqlite3_column_blob(stmt, 1));
                sum.Add(raw.sqlite3_column_int64(stmt, 2));
                sum.Add(raw.sqlite3_column_double(stmt, 3));
                sum.Add(raw.sqlite3_column_blob(stmt, 4));
            });
            string integrity = "";
            ForEachRow(db, "PRAGMA integrity_check", stmt =>
            {
                integrity += raw.sqlite3_column_text(stmt, 0).utf8_to_string();
            });
            Phase("scan");
            return new JobResult(sum.Value, integrity, left, phases.ToArray());
        }
    }

    // Deterministic rows: xorshift64 from a fixed seed.
    private static void Insert(sqlite3 db, int rows)
    {
        ulong state = 0x9E3779B97F4A7C15UL;
        ulong Next()
        {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            return state;
        }

        Span<byte> name = stackalloc byte[64];
        byte[] payload = new byte[512];
        Check(raw.sqlite3_prepare_v2(db, "INSERT INTO items (id, name, category, price, payload) VALUES (?, ?, ?, ?, ?)", out sqlite3_stmt insert), db, "prepare insert");
        using (insert)
        {
            for (int id = 1; id <= rows; id++)
            {
                if (id % RowsPerTransaction == 1) Exec(db, "BEGIN");
                int nameLength = 8 + (int)(Next() % 57);
                for (int i = 0; i < nameLength; i++) name[i] = (byte)('a' + (int)(Next() % 26));
                int payloadLength = 16 + (int)(Next() % 497);
                for (int i = 0; i < payloadLength; i++) payload[i] = (byte)Next();

                raw.sqlite3_bind_int64(insert, 1, id);
                raw.sqlite3_bind_text(insert, 2, name[..nameLength]);
                raw.sqlite3_bind_int64(insert, 3, (long)(Next() % 100));
                raw.sqlite3_bind_double(insert, 4, (Next() % 100_000) / 100.0);
                raw.sqlite3_bind_blob(insert, 5, payload.AsSpan(0, payloadLength));
                Step(insert, db);
                raw.sqlite3_reset(insert);
                if (id % RowsPerTransaction == 0 || id == rows) Exec(db, "COMMIT");
            }
        }
    }

    private static void Query(sqlite3 db, Checksum sum)
    {
        ForEachRow(db, "SELECT category, count(*), total(price), sum(length(payload)) FROM items GROUP BY category ORDER BY category", stmt =>
        {
            sum.Add(raw.sqlite3_column_int64(stmt, 0));
            sum.Add(raw.sqlite3_column_int64(stmt, 1));
            sum.Add(raw.sqlite3_column_double(stmt, 2));
            sum.Add(raw.sqlite3_column_int64(stmt, 3));
        });
        ForEachRow(db, "SELECT id, name FROM items WHERE name >= 'ab' AND name < 'ad' ORDER BY name, id", stmt =>
        {
            sum.Add(raw.sqlite3_column_int64(stmt, 0));
            sum.Add(raw.sqlite3_column_blob(stmt, 1));
        });
        ForEachRow(db, "SELECT count(*), total(price) FROM items WHERE category BETWEEN 10 AND 20 AND price > 500.0", stmt =>
        {
            sum.Add(raw.sqlite3_column_int64(stmt, 0));
            sum.Add(raw.sqlite3_column_double(stmt, 1));
        });
    }

    // Each thread reads through its own connection, sorts its share into a temporary table (its own
    // page cache and temp file) and looks rows up; the sums are added in thread order afterwards,
    // so the result does not depend on how the threads interleave.
    private static void Concurrent(string path, int rows, Checksum sum)
    {
        var sums = new Checksum[Threads];
        var failures = new Exception?[Threads];
        var threads = new Thread[Threads];
        for (int t = 0; t < Threads; t++)
        {
            int share = t;
            sums[share] = new Checksum();
            threads[share] = new Thread(() =>
            {
                try
                {
                    ReadShare(path, rows, share, sums[share]);
                }
                catch (Exception e)
                {
                    failures[share] = e;
                }
            });
            threads[share].Start();
        }

        foreach (Thread thread in threads) thread.Join();
        foreach (Exception? failure in failures)
        {
            if (failure is not null) throw new InvalidOperationException("a reader thread failed", failure);
        }

        foreach (Checksum part in sums) sum.Add((long)part.Value);
    }

    private static void ReadShare(string path, int rows, int share, Checksum sum)
    {
        Check(raw.sqlite3_open_v2(path, out sqlite3 db, raw.SQLITE_OPEN_READONLY, null), db, "open " + share);
        using (db)
        {
            Exec(db, "PRAGMA cache_size = -4000");
            Exec(db, $"CREATE TEMP TABLE share AS SELECT id, name, price, payload FROM items WHERE id % {Threads} = {share} ORDER BY name");
            ForEachRow(db, "SELECT count(*), total(price), sum(length(payload)), min(name), max(name) FROM share", stmt =>
            {
                sum.Add(raw.sqlite3_column_int64(stmt, 0));
                sum.Add(raw.sqlite3_column_double(stmt, 1));
                sum.Add(raw.sqlite3_column_int64(stmt, 2));
                sum.Add(raw.sqlite3_column_blob(stmt, 3));
                sum.Add(raw.sqlite3_column_blob(stmt, 4));
            });
            ForEachRow(db, "SELECT category, count(*), total(price) FROM items WHERE id % 2 = 1 GROUP BY category ORDER BY category", stmt =>
            {
                sum.Add(raw.sqlite3_column_int64(stmt, 0));
                sum.Add(raw.sqlite3_column_int64(stmt, 1));
                sum.Add(raw.sqlite3_column_double(stmt, 2));
            });
            PointQueries(db, rows, sum);
        }
    }

    private static void PointQueries(sqlite3 db, int rows, Checksum sum)
    {
        Check(raw.sqlite3_prepare_v2(db, "SELECT name, price FROM items WHERE id = ?", out sqlite3_stmt lookup), db, "prepare lookup");
        using (lookup)
        {
            for (int i = 0; i < PointLookups; i++)
            {
                raw.sqlite3_bind_int64(lookup, 1, 1 + (long)i * 7919 % rows);
                if (raw.sqlite3_step(lookup) == raw.SQLITE_ROW)
                {
                    sum.Add(raw.sqlite3_column_blob(lookup, 0));
                    sum.Add(raw.sqlite3_column_double(lookup, 1));
                }

                raw.sqlite3_reset(lookup);
            }
        }
    }

    private static void ForEachRow(sqlite3 db, string sql, Action<sqlite3_stmt> row)
    {
        Check(raw.sqlite3_prepare_v2(db, sql, out sqlite3_stmt stmt), db, sql);
        using (stmt)
        {
            int rc;
            while ((rc = raw.sqlite3_step(stmt)) == raw.SQLITE_ROW)
            {
                row(stmt);
            }

            if (rc != raw.SQLITE_DONE) Check(rc, db, sql);
        }
    }

    private static void Step(sqlite3_stmt stmt, sqlite3 db)
    {
        int rc = raw.sqlite3_step(stmt);
        if (rc != raw.SQLITE_DONE) Check(rc, db, "step");
    }

    private static void Exec(sqlite3 db, string sql) => Check(raw.sqlite3_exec(db, sql), db, sql);

    private static void Check(int rc, sqlite3 db, string what)
    {
        if (rc != raw.SQLITE_OK)
        {
            throw new InvalidOperationException($"SQLite error {rc} in '{what}': {raw.sqlite3_errmsg(db).utf8_to_string()}");
        }
    }
}
