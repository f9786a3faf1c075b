using System;
using SQLitePCL;

namespace SqliteOnArena;

/// <summary>
/// A classic C bug made by SQLite's own code: a BLOB read into a buffer smaller than the read.
/// SQLite's memcpy writes past the end of a block it took from the installed allocator.
/// </summary>
public static unsafe class Overflow
{
    /// <summary>The buffer: a large size class, so the block ends exactly where a guard page starts.</summary>
    public const int BufferBytes = 16_384;

    /// <summary>What the read copies: 256 bytes more than the buffer holds.</summary>
    public const int ReadBytes = BufferBytes + 256;

    /// <summary>
    /// Stores a BLOB of <see cref="ReadBytes"/> bytes, takes a <see cref="BufferBytes"/>-byte buffer
    /// from <c>sqlite3_malloc</c> and has <c>sqlite3_blob_read</c> copy the whole BLOB into it.
    /// Returns 0 if the process is still alive afterwards (the overflow went unnoticed).
    /// </summary>
    /// <param name="arena">The arena SQLite allocates from, to say what lies past the buffer's end.</param>
    public static int Run(Allocator.Arena arena)
    {
        // No using blocks: after the overflow nothing may touch SQLite's memory again, not even a close.
        Check(raw.sqlite3_open(":memory:", out sqlite3 db), db);
        Check(raw.sqlite3_exec(db, $"CREATE TABLE t (b BLOB); INSERT INTO t VALUES (randomblob({ReadBytes}))"), db);
        Check(raw.sqlite3_blob_open(db, "main", "t", "b", 1, 0, out sqlite3_blob blob), db);
        byte* buffer = (byte*)raw.sqlite3_malloc(BufferBytes);
        if (buffer == null) throw new OutOfMemoryException("sqlite3_malloc returned null");
        nuint end = (nuint)buffer + BufferBytes;
        var regions = arena.GetAddressSpace();
        int at = regions.FindIndex(r => r.Start <= end && end < r.Start + r.Size);
        Console.WriteLine($"buffer: {BufferBytes} bytes at 0x{(nuint)buffer:x}, reading {ReadBytes} bytes into it");
        Console.WriteLine($"past its end: {(at >= 0 ? regions[at].Kind.ToString() : "outside the arena")}");
        Console.Out.Flush();
        // The bug: the span claims the BLOB's length, not the buffer's.
        Check(raw.sqlite3_blob_read(blob, new Span<byte>(buffer, ReadBytes), 0), db);
        Console.WriteLine("overflow: not detected");
        return 0;
    }

    private static void Check(int rc, sqlite3 db)
    {
        if (rc != raw.SQLITE_OK) throw new InvalidOperationException($"SQLite error {rc}: {raw.sqlite3_errmsg(db).utf8_to_string()}");
    }
}
