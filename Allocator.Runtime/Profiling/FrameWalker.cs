using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Allocator.Os;

namespace Allocator.Profiling;

/// <summary>
/// The return addresses of the calling thread's frames, read by following the frame-pointer chain
/// (each frame's saved frame pointer and return address sit at its frame pointer): no unwinder, no
/// method lookup, no allocation. JIT-compiled code on x64 keeps that chain, which is also what
/// <c>perf</c> follows. The addresses identify a stack; the names are resolved once per distinct
/// stack by <see cref="StackCapture"/>.
/// </summary>
/// <remarks>
/// Managed code cannot read its own frame pointer, so a four-byte routine that returns it
/// (<c>mov rax, rbp; ret</c>) is written to a page of its own and made executable. Only x64 Linux
/// has it; elsewhere, or when the system refuses executable anonymous memory, <see cref="Available"/>
/// is false and samples take the managed stack trace. Every read is checked against the thread's
/// stack bounds and the chain must climb, so a frame without a frame pointer ends the walk early
/// instead of reading outside the stack.
/// </remarks>
internal static unsafe partial class FrameWalker
{
    /// <summary>The most frames a walk returns.</summary>
    public const int MaxFrames = 64;

    private static readonly delegate* unmanaged[SuppressGCTransition]<nuint> s_readFramePointer = CreateReader();

    // The calling thread's stack, [low, high); both 0 before its first walk, high 0 after when unknown.
    [ThreadStatic] private static nuint t_stackLow;
    [ThreadStatic] private static nuint t_stackHigh;
    [ThreadStatic] private static bool t_boundsRead;

    /// <summary>Whether walks work on this system (x64 Linux, executable page granted).</summary>
    public static bool Available => s_readFramePointer != null;

    /// <summary>
    /// Fills <paramref name="returnAddresses"/> with the frames' return addresses, innermost first,
    /// and returns how many; 0 when walks are not available on this thread.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Walk(Span<nuint> returnAddresses)
    {
        if (s_readFramePointer == null) return 0;
        if (!t_boundsRead) ReadStackBounds();
        nuint low = t_stackLow, high = t_stackHigh;
        nuint fp = s_readFramePointer();
        int count = 0;
        while (count < returnAddresses.Length && fp >= low && fp + 16 <= high && (fp & 7) == 0)
        {
            nuint next = *(nuint*)fp;
            nuint ret = *(nuint*)(fp + 8);
            if (ret == 0) break;
            returnAddresses[count++] = ret;
            if (next <= fp) break;
            fp = next;
        }

        return count;
    }

    private static void ReadStackBounds()
    {
        t_boundsRead = true;
        byte* attr = stackalloc byte[256];
        try
        {
            if (PthreadGetattrNp(PthreadSelf(), attr) != 0) return;
            void* address;
            nuint size;
            int rc = PthreadAttrGetstack(attr, &address, &size);
            PthreadAttrDestroy(attr);
            if (rc != 0) return;
            t_stackLow = (nuint)address;
            t_stackHigh = (nuint)address + size;
        }
        catch (EntryPointNotFoundException)
        {
            // An older C library keeps these in libpthread: no bounds, so no walks on this thread.
        }
    }

    private static delegate* unmanaged[SuppressGCTransition]<nuint> CreateReader()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return null;
        const nuint length = 4096;
        void* page = LibC.Mmap(null, length, LibC.ProtReadWrite, LibC.MapPrivate | LibC.MapAnonymous, -1, 0);
        if (page == LibC.MapFailed) return null;
        byte* code = (byte*)page;
        code[0] = 0x48; // mov rax, rbp
        code[1] = 0x89;
        code[2] = 0xE8;
        code[3] = 0xC3; // ret
        if (LibC.Mprotect(page, length, ProtReadExecute) != 0)
        {
            LibC.Munmap(page, length);
            return null;
        }

        return (delegate* unmanaged[SuppressGCTransition]<nuint>)page;
    }

    private const int ProtReadExecute = 0x1 | 0x4;

    [LibraryImport("libc", EntryPoint = "pthread_self")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvSuppressGCTransition)])]
    private static partial nuint PthreadSelf();

    [LibraryImport("libc", EntryPoint = "pthread_getattr_np")]
    private static partial int PthreadGetattrNp(nuint thread, void* attr);

    [LibraryImport("libc", EntryPoint = "pthread_attr_getstack")]
    private static partial int PthreadAttrGetstack(void* attr, void** address, nuint* size);

    [LibraryImport("libc", EntryPoint = "pthread_attr_destroy")]
    private static partial int PthreadAttrDestroy(void* attr);
}
