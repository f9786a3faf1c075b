using System;
using System.IO;

namespace Allocator.Tests.Infrastructure;

/// <summary>
/// Compares text with a checked-in <c>.verified.cs</c> file. Set ALLOCATOR_ACCEPT_SNAPSHOTS=1 to
/// (re)write the file instead; CI never sets it, and a missing snapshot fails without it.
/// </summary>
public static class SnapshotAssert
{
    /// <summary>The switch that rewrites snapshots.</summary>
    public const string AcceptVariable = "ALLOCATOR_ACCEPT_SNAPSHOTS";

    /// <summary>
    /// Fails unless <paramref name="actual"/> equals <paramref name="directory"/>/<paramref name="name"/>.verified.cs
    /// (line endings and trailing blanks ignored). On a mismatch it writes a .received.cs beside it.
    /// </summary>
    public static void Match(string actual, string directory, string name)
    {
        var verifiedPath = Path.Combine(directory, name + ".verified.cs");
        var receivedPath = Path.Combine(directory, name + ".received.cs");
        var normalized = Normalize(actual);
        var accept = Environment.GetEnvironmentVariable(AcceptVariable) == "1"
            && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

        if (File.Exists(verifiedPath) && Normalize(File.ReadAllText(verifiedPath)) == normalized)
        {
            File.Delete(receivedPath);
            return;
        }

        if (accept)
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(verifiedPath, normalized);
            File.Delete(receivedPath);
            return;
        }

        Directory.CreateDirectory(directory);
        File.WriteAllText(receivedPath, normalized);
        var why = File.Exists(verifiedPath)
            ? $"Snapshot mismatch: compare {receivedPath} with {verifiedPath}."
            : $"New snapshot: {verifiedPath} does not exist; the output is in {receivedPath}.";
        throw new SnapshotMismatchException($"{why} Run the tests with {AcceptVariable}=1 to accept.\n{FirstDifference(verifiedPath, normalized)}");
    }

    private static string Normalize(string text)
    {
        var lines = text.Replace("\r\n", "\n").Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            lines[i] = lines[i].TrimEnd();
        }

        return string.Join("\n", lines).TrimEnd('\n') + "\n";
    }

    private static string FirstDifference(string verifiedPath, string actual)
    {
        if (!File.Exists(verifiedPath))
        {
            return actual;
        }

        var expected = Normalize(File.ReadAllText(verifiedPath)).Split('\n');
        var received = actual.Split('\n');
        for (var i = 0; i < Math.Max(expected.Length, received.Length); i++)
        {
            var e = i < expected.Length ? expected[i] : "<end>";
            var r = i < received.Length ? received[i] : "<end>";
            if (e != r)
            {
                return $"First difference at line {i + 1}:\n- {e}\n+ {r}";
            }
        }

        return string.Empty;
    }
}

/// <summary>Thrown when generated text differs from its snapshot.</summary>
public sealed class SnapshotMismatchException(string message) : Exception(message);
