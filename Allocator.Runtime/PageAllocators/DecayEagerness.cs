using System.ComponentModel;

namespace Allocator.PageAllocators;

/// <summary>How eagerly a decay pass purges.</summary>
[EditorBrowsable(EditorBrowsableState.Advanced)]
internal enum DecayEagerness
{
    /// <summary>Only advance the epoch; purging is left to a background purger.</summary>
    Never,

    /// <summary>Purge when an epoch advanced (application threads, no background purger).</summary>
    OnEpochAdvance,

    /// <summary>Purge down to the limit whenever above it (the background purger).</summary>
    Always,
}
