using Allocator;

namespace SqliteOnArena;

/// <summary>
/// <see cref="SqliteArena"/> with a guard page beside every slab and every large block: a native
/// write past a block's end that reaches the guard stops the process with SIGSEGV.
/// </summary>
[Arena]
[Guards(SmallEvery = 1, LargeEvery = 1)]
public sealed partial class GuardedSqliteArena;
