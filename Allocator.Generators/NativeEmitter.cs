namespace Allocator.Generators;

/// <summary>
/// Writes a declaration's nested <c>Native</c> class: malloc's family as
/// <c>[UnmanagedCallersOnly]</c> entry points over the declaration's <c>Shared</c> arena, for C
/// libraries that take allocator callbacks without a context argument.
/// </summary>
internal static class NativeEmitter
{
    private const string EntryPoint = "[global::System.Runtime.InteropServices.UnmanagedCallersOnly]";

    public static void Emit(SourceWriter w, string generatedCode, string self)
    {
        w.Line("/// <summary>");
        w.Line($"/// malloc's family as C entry points over <see cref=\"{self}.Shared\"/>, for native libraries that take");
        w.Line($"/// allocator callbacks: pass <c>&amp;{self}.Native.Malloc</c> as a <c>delegate* unmanaged&lt;nuint, void*&gt;</c>.");
        w.Line("/// </summary>");
        w.Line("/// <remarks>");
        w.Line("/// C semantics, as <see cref=\"global::Allocator.CAllocator\"/>: null on failure and never an exception across");
        w.Line("/// the boundary, <c>Free(null)</c> does nothing, <c>Realloc(null, n)</c> allocates, and a pointer the arena");
        w.Line("/// does not own ends the process with a message naming the address. The first call creates");
        w.Line($"/// <see cref=\"{self}.Shared\"/>; if that fails (a policy this machine cannot run) the process ends with the reason.");
        w.Line("/// </remarks>");
        w.Line(generatedCode);
        w.Open("public static unsafe class Native");
        Entry(w, first: true, "void*", "Malloc", "nuint size", "Malloc(Shared.Core, size)",
            "malloc: <paramref name=\"size\"/> bytes (at least 1), or null.");
        Entry(w, first: false, "void*", "Calloc", "nuint count, nuint size", "Calloc(Shared.Core, count, size)",
            "calloc: <paramref name=\"count\"/> × <paramref name=\"size\"/> bytes that read as zero, or null (also when the product overflows).");
        Entry(w, first: false, "void*", "Realloc", "void* pointer, nuint size", "Realloc(Shared.Core, pointer, size)",
            "realloc: the block resized (moved if need be), or null with the block unchanged; a null <paramref name=\"pointer\"/> allocates.");
        Entry(w, first: false, "void", "Free", "void* pointer", "Free(Shared.Core, pointer)",
            "free: frees a block of this arena; null does nothing.");
        Entry(w, first: false, "nuint", "UsableSize", "void* pointer", "UsableSize(Shared.Core, pointer)",
            "malloc_usable_size: the usable size of a live block (its size class); 0 for null.");
        Entry(w, first: false, "void*", "AlignedAlloc", "nuint alignment, nuint size", "AlignedAlloc(Shared.Core, alignment, size)",
            "aligned_alloc: <paramref name=\"size\"/> bytes aligned to <paramref name=\"alignment\"/> (a power of two), or null.");
        w.Close();
    }

    private static void Entry(SourceWriter w, bool first, string returns, string name, string parameters, string call, string summary)
    {
        if (!first)
        {
            w.Line();
        }

        w.Line($"/// <summary>{summary}</summary>");
        w.Line(EntryPoint);
        w.Line($"public static {returns} {name}({parameters}) => global::Allocator.CAllocator.{call};");
    }
}
