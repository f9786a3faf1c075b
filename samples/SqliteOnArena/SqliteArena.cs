using Allocator;

namespace SqliteOnArena;

/// <summary>
/// The arena SQLite allocates from, with jemalloc's defaults. The generator gives it a nested
/// <c>Native</c> class of C entry points over <see cref="Shared"/>, because SQLite's allocator
/// callbacks carry no context argument.
/// </summary>
[Arena]
public sealed partial class SqliteArena;
