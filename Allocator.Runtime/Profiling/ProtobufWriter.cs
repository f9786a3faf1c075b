using System;
using System.IO;
using System.Text;

namespace Allocator.Profiling;

/// <summary>
/// The few protobuf wire-format primitives the pprof writer needs: varints, tags, packed varints,
/// strings and nested messages. Hand-written because the runtime takes no package dependencies.
/// </summary>
internal sealed class ProtobufWriter
{
    private const int Varint = 0, LengthDelimited = 2;

    private readonly MemoryStream _buffer = new();

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> Written => _buffer.GetBuffer().AsSpan(0, (int)_buffer.Length);

    /// <summary>A varint field; zero is the default and is left out, as proto3 does.</summary>
    public void WriteUInt64(int field, ulong value)
    {
        if (value == 0) return;
        WriteTag(field, Varint);
        WriteVarint(value);
    }

    /// <summary>An int64 field (negative values take ten bytes, as protobuf encodes them).</summary>
    public void WriteInt64(int field, long value) => WriteUInt64(field, (ulong)value);

    /// <summary>A bool field, left out when false.</summary>
    public void WriteBool(int field, bool value) => WriteUInt64(field, value ? 1UL : 0);

    /// <summary>A string field, written even when empty (a string table keeps its positions).</summary>
    public void WriteString(int field, string value)
    {
        WriteTag(field, LengthDelimited);
        int length = Encoding.UTF8.GetByteCount(value);
        WriteVarint((ulong)length);
        Span<byte> bytes = length <= 256 ? stackalloc byte[length] : new byte[length];
        Encoding.UTF8.GetBytes(value, bytes);
        _buffer.Write(bytes);
    }

    /// <summary>A packed repeated varint field, left out when empty.</summary>
    public void WritePacked(int field, ReadOnlySpan<long> values)
    {
        if (values.IsEmpty) return;
        var packed = new ProtobufWriter();
        foreach (long v in values) packed.WriteVarint((ulong)v);
        WriteMessage(field, packed);
    }

    /// <summary>A nested message (written even when empty: a repeated message keeps its count).</summary>
    public void WriteMessage(int field, ProtobufWriter message)
    {
        WriteTag(field, LengthDelimited);
        ReadOnlySpan<byte> bytes = message.Written;
        WriteVarint((ulong)bytes.Length);
        _buffer.Write(bytes);
    }

    private void WriteTag(int field, int wireType) => WriteVarint((ulong)((field << 3) | wireType));

    private void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _buffer.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        _buffer.WriteByte((byte)value);
    }
}
