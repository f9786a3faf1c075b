using System.Text.Json;
using System.Text.Json.Serialization;
using Allocator.PageAllocators;

namespace Allocator;

/// <summary>Arena statistics as JSON, through a source-generated serializer (no reflection, trim- and AOT-safe).</summary>
public static class StatsJson
{
    /// <summary>The statistics as an indented JSON document.</summary>
    public static string ToJson(ArenaStats stats)
    {
        System.ArgumentNullException.ThrowIfNull(stats);
        return JsonSerializer.Serialize(stats, StatsJsonContext.Default.ArenaStats);
    }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ArenaStats))]
[JsonSerializable(typeof(PageAllocatorStats))]
internal sealed partial class StatsJsonContext : JsonSerializerContext;
