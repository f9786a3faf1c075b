using Allocator;

namespace SqliteOnArena;

/// <summary>
/// The arena SQLite allocates from: jemalloc's defaults but eight size classes per doubling, so
/// SQLite's page-cache entries (4,096 bytes of page and 272 of headers) take a 4,608-byte block
/// instead of a 5,120-byte one. The generator gives it a nested <c>Native</c> class of C entry
/// points over <see cref="Shared"/>, because SQLite's allocator callbacks carry no context argument.
/// </summary>
[Arena]
[SizeClasses(LgGroup = 3)]
public sealed partial class SqliteArena;
