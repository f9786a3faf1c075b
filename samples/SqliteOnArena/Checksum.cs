using System;
using System.Buffers.Binary;

namespace SqliteOnArena;

/// <summary>64-bit FNV-1a over everything the job reads back, so two runs can be compared by one number.</summary>
public sealed class Checksum
{
    private ulong _hash = 14695981039346656037UL;

    /// <summary>The value so far.</summary>
    public ulong Value => _hash;

    /// <summary>Adds bytes, preceded by their length so that ("ab","c") and ("a","bc") differ.</summary>
    public void Add(ReadOnlySpan<byte> bytes)
    {
        Add((long)bytes.Length);
        foreach (byte b in bytes)
        {
            _hash = (_hash ^ b) * 1099511628211UL;
        }
    }

    /// <summary>Adds an integer.</summary>
    public void Add(long value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        foreach (byte b in bytes)
        {
            _hash = (_hash ^ b) * 1099511628211UL;
        }
    }

    /// <summary>Adds a double by its bits.</summary>
    public void Add(double value) => Add(BitConverter.DoubleToInt64Bits(value));
}
