using Allocator;

namespace SqliteOnArena;

/// <summary>
/// <see cref="SqliteArena"/> (the same size classes) with a guard page beside every slab and every large block: a native
/// write past a block's end that reaches the guard stops the process with SIGSEGV.
/// </summary>
[Arena]
[SizeClasses(LgGroup = 3)]
[Guards(SmallEvery = 1, LargeEvery = 1)]
public sealed partial class GuardedSqliteArena;
