using System.Globalization;
using System.IO;

namespace Allocator.Profiling;

/// <summary>The folded-stacks text of a <see cref="HeapProfile"/>: <c>outer;...;inner bytes</c>, one site a line.</summary>
internal static class FoldedWriter
{
    public static void Write(HeapProfile profile, TextWriter writer)
    {
        foreach (HeapProfileSite site in profile.Sites)
        {
            if (site.LiveBytes <= 0) continue;
            for (int i = site.Frames.Count - 1; i >= 0; i--)
            {
                // The format's separators may not appear inside a frame.
                writer.Write(site.Frames[i].Replace(';', ':').Replace(' ', '_'));
                if (i > 0) writer.Write(';');
            }

            if (site.Frames.Count == 0) writer.Write("[unknown]");
            writer.Write(' ');
            writer.Write(site.LiveBytes.ToString(CultureInfo.InvariantCulture));
            writer.Write('\n');
        }
    }
}
