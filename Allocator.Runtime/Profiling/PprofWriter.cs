using System.Collections.Generic;
using System.IO;
using System.IO.Compression;

namespace Allocator.Profiling;

/// <summary>
/// Writes a <see cref="HeapProfile"/> as pprof's <c>Profile</c> message (profile.proto), gzipped, in
/// the shape of Go's heap profiles: sample types alloc_objects/count, alloc_space/bytes,
/// inuse_objects/count and inuse_space/bytes, period type space/bytes with the sampling interval.
/// One function and one location per distinct frame name; a sample lists its locations innermost first.
/// </summary>
internal static class PprofWriter
{
    // Field numbers of profile.proto.
    private const int ProfileSampleType = 1, ProfileSample = 2, ProfileLocation = 4, ProfileFunction = 5, ProfileStringTable = 6;
    private const int ProfileTimeNanos = 9, ProfilePeriodType = 11, ProfilePeriod = 12, ProfileComment = 13, ProfileDefaultSampleType = 14;
    private const int ValueTypeType = 1, ValueTypeUnit = 2;
    private const int SampleLocationId = 1, SampleValue = 2;
    private const int LocationId = 1, LocationLine = 4;
    private const int LineFunctionId = 1;
    private const int FunctionId = 1, FunctionName = 2, FunctionSystemName = 3;

    public static void Write(HeapProfile profile, Stream stream)
    {
        var strings = new List<string> { string.Empty };
        var stringIndex = new Dictionary<string, long> { [string.Empty] = 0 };
        long Str(string s)
        {
            if (stringIndex.TryGetValue(s, out long i)) return i;
            i = strings.Count;
            strings.Add(s);
            stringIndex.Add(s, i);
            return i;
        }

        var message = new ProtobufWriter();
        foreach ((string type, string unit) in new[] { ("alloc_objects", "count"), ("alloc_space", "bytes"), ("inuse_objects", "count"), ("inuse_space", "bytes") })
            message.WriteMessage(ProfileSampleType, ValueType(Str(type), Str(unit)));

        // Functions and locations are numbered from 1 in order of first appearance, one per frame name.
        var functionIds = new Dictionary<string, long>();
        var functionOrder = new List<string>();
        foreach (HeapProfileSite site in profile.Sites)
        {
            var locations = new long[site.Frames.Count];
            for (int i = 0; i < locations.Length; i++)
            {
                string frame = site.Frames[i];
                if (!functionIds.TryGetValue(frame, out long id))
                {
                    id = functionOrder.Count + 1;
                    functionIds.Add(frame, id);
                    functionOrder.Add(frame);
                }

                locations[i] = id;
            }

            var sample = new ProtobufWriter();
            sample.WritePacked(SampleLocationId, locations);
            sample.WritePacked(SampleValue, new[] { site.AllocatedCount, site.AllocatedBytes, site.LiveCount, site.LiveBytes });
            message.WriteMessage(ProfileSample, sample);
        }

        for (int i = 0; i < functionOrder.Count; i++)
        {
            var line = new ProtobufWriter();
            line.WriteUInt64(LineFunctionId, (ulong)(i + 1));
            var location = new ProtobufWriter();
            location.WriteUInt64(LocationId, (ulong)(i + 1));
            location.WriteMessage(LocationLine, line);
            message.WriteMessage(ProfileLocation, location);
        }

        for (int i = 0; i < functionOrder.Count; i++)
        {
            var function = new ProtobufWriter();
            long name = Str(functionOrder[i]);
            function.WriteUInt64(FunctionId, (ulong)(i + 1));
            function.WriteInt64(FunctionName, name);
            function.WriteInt64(FunctionSystemName, name);
            message.WriteMessage(ProfileFunction, function);
        }

        long comment = Str($"Allocator arena {profile.ArenaIndex} heap profile, mean sample interval {profile.SampleInterval} bytes");
        long periodType = Str("space"), periodUnit = Str("bytes"), defaultType = Str("inuse_space");
        // The string table goes last, once every string is known; field order does not matter to readers.
        message.WriteInt64(ProfileTimeNanos, profile.Time.ToUnixTimeMilliseconds() * 1_000_000);
        message.WriteMessage(ProfilePeriodType, ValueType(periodType, periodUnit));
        message.WriteInt64(ProfilePeriod, profile.SampleInterval);
        message.WritePacked(ProfileComment, new[] { comment });
        message.WriteInt64(ProfileDefaultSampleType, defaultType);
        foreach (string s in strings) message.WriteString(ProfileStringTable, s);

        using var gzip = new GZipStream(stream, CompressionLevel.Optimal, leaveOpen: true);
        gzip.Write(message.Written);
    }

    private static ProtobufWriter ValueType(long type, long unit)
    {
        var v = new ProtobufWriter();
        v.WriteInt64(ValueTypeType, type);
        v.WriteInt64(ValueTypeUnit, unit);
        return v;
    }
}
