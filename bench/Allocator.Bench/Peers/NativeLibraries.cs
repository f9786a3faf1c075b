using System;
using System.Runtime.InteropServices;

namespace Allocator.Bench.Peers;

/// <summary>Loads a peer's shared library and its exports, keeping the reason when that fails.</summary>
internal static class NativeLibraries
{
    /// <summary>Loads <paramref name="name"/>; on failure returns false with the loader's message.</summary>
    public static bool TryLoad(string name, out nint handle, out string reason)
    {
        // NativeLibrary.Load rather than TryLoad: its exception carries dlerror()'s text, which
        // says *why* (not installed, or "cannot allocate memory in static TLS block").
        try
        {
            handle = NativeLibrary.Load(name);
            reason = "";
            return true;
        }
        catch (DllNotFoundException e)
        {
            handle = 0;
            reason = $"{name} did not load: {LoaderDetail(e.Message)}";
            return false;
        }
        catch (BadImageFormatException e)
        {
            handle = 0;
            reason = $"{name} is not loadable here: {FirstLine(e.Message)}";
            return false;
        }
    }

    /// <summary>Finds every export in <paramref name="names"/>; on failure names the first missing one.</summary>
    public static bool TryGetExports(nint handle, string library, ReadOnlySpan<string> names, Span<nint> addresses, out string reason)
    {
        for (int i = 0; i < names.Length; i++)
        {
            if (!NativeLibrary.TryGetExport(handle, names[i], out addresses[i]))
            {
                reason = $"{library} has no export '{names[i]}'";
                return false;
            }
        }
        reason = "";
        return true;
    }

    /// <summary>Reads a NUL-terminated string the library owns (version strings).</summary>
    public static unsafe string FromUtf8(byte* text) => text == null ? "" : Marshal.PtrToStringUTF8((nint)text) ?? "";

    /// <summary>The runtime's message is a generic first line followed by dlerror()'s text for
    /// each path it tried; the latter is what a reader needs.</summary>
    private static string LoaderDetail(string message)
    {
        string[] lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length > 1 ? string.Join("; ", lines[1..Math.Min(lines.Length, 3)]) : FirstLine(message);
    }

    private static string FirstLine(string message)
    {
        int end = message.IndexOf('\n');
        return (end < 0 ? message : message[..end]).Trim();
    }
}
