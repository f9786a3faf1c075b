using System.Collections.Generic;
using System.Diagnostics;

namespace Allocator.Profiling;

/// <summary>
/// The managed frames of the calling thread at a sample, innermost first: method and declaring type
/// names only, taken without file information (no PDB is read and no symbol resolved), and without
/// the allocator's own frames at the top. Taking the trace is the costly part; the names are read
/// from it only when a profile is built.
/// </summary>
internal static class StackCapture
{
    private static readonly string s_runtimeAssembly = typeof(Arena).Assembly.GetName().Name!;

    /// <summary>The calling thread's managed stack, without file information.</summary>
    public static StackTrace Trace() => new(1, fNeedFileInfo: false);

    /// <summary>
    /// The frames of <paramref name="trace"/> as pairs (declaring type, method), the pair of the
    /// innermost frame first. The strings are the runtime's cached names, so equal frames give equal
    /// strings without formatting.
    /// </summary>
    public static string[] Names(StackTrace trace)
    {
        int count = trace.FrameCount;
        var names = new List<string>(2 * count);
        bool top = true;
        for (int i = 0; i < count; i++)
        {
            StackFrame? frame = trace.GetFrame(i);
            DiagnosticMethodInfo? method = frame == null ? null : DiagnosticMethodInfo.Create(frame);
            if (method == null) continue;
            // The allocator's frames above the caller say nothing about who allocated.
            if (top && IsRuntimeAssembly(method.DeclaringAssemblyName)) continue;
            top = false;
            names.Add(method.DeclaringTypeName ?? string.Empty);
            names.Add(method.Name);
        }

        return names.ToArray();
    }

    private static bool IsRuntimeAssembly(string assemblyName) =>
        assemblyName.StartsWith(s_runtimeAssembly, System.StringComparison.Ordinal) &&
        (assemblyName.Length == s_runtimeAssembly.Length || assemblyName[s_runtimeAssembly.Length] == ',');
}
