using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace Allocator;

/// <summary>What a stretch of an arena's address space is, for <see cref="AddressSpacePicture"/>.</summary>
public enum AddressSpaceKind
{
    /// <summary>In use: a slab or a large allocation.</summary>
    Active,

    /// <summary>Freed, pages still committed.</summary>
    Dirty,

    /// <summary>Freed and lazily purged.</summary>
    Muzzy,

    /// <summary>Purged; address space kept.</summary>
    Retained,

    /// <summary>A guard page (inaccessible).</summary>
    Guard,
}

/// <summary>One stretch of address space.</summary>
/// <param name="Start">First byte.</param>
/// <param name="Size">Bytes.</param>
/// <param name="Kind">What it is.</param>
public readonly record struct AddressSpaceRegion(nuint Start, nuint Size, AddressSpaceKind Kind);

/// <summary>
/// Draws an arena's address space as SVG: every extent in address order, coloured by state, guard
/// pages in black; adjacent extents touch, separate mappings are set apart.
/// </summary>
public static class AddressSpacePicture
{
    private const int Width = 1200, RowHeight = 22, RowGap = 6, Margin = 10, LegendHeight = 30, MaxRows = 40;

    /// <summary>Writes the picture of <paramref name="arena"/> to <paramref name="path"/>.</summary>
    public static void Write(Arena arena, string path)
    {
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        Write(arena, writer);
    }

    /// <summary>Writes the picture of <paramref name="arena"/> to <paramref name="writer"/>.</summary>
    public static void Write(Arena arena, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(arena);
        ArgumentNullException.ThrowIfNull(writer);
        List<AddressSpaceRegion> regions = arena.GetAddressSpace();
        regions.Sort((a, b) => a.Start.CompareTo(b.Start));
        ulong total = 0;
        foreach (AddressSpaceRegion r in regions) total += r.Size;
        double bytesPerPixel = Math.Max(Environment.SystemPageSize / 4.0, total / (double)(Width * MaxRows));

        var c = CultureInfo.InvariantCulture;
        var body = new StringBuilder();
        double x = 0;
        int row = 0;
        nuint previousEnd = 0;
        foreach (AddressSpaceRegion r in regions)
        {
            // A gap in the addresses is a separate mapping: leave a visible space.
            if (previousEnd != 0 && r.Start != previousEnd) x += 6;
            double w = Math.Max(1, r.Size / bytesPerPixel);
            while (w > 0)
            {
                if (x >= Width)
                {
                    x = 0;
                    row++;
                }

                double piece = Math.Min(w, Width - x);
                double y = LegendHeight + Margin + row * (RowHeight + RowGap);
                body.Append(c, $"<rect x=\"{Margin + x:F1}\" y=\"{y:F1}\" width=\"{piece:F1}\" height=\"{RowHeight}\" fill=\"{Colour(r.Kind)}\"><title>{r.Kind} 0x{r.Start:x} {r.Size} bytes</title></rect>\n");
                x += piece;
                w -= piece;
            }

            previousEnd = r.Start + r.Size;
        }

        int height = LegendHeight + 2 * Margin + (row + 1) * (RowHeight + RowGap);
        writer.Write($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width + 2 * Margin}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        writer.Write($"<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        double lx = Margin;
        foreach (AddressSpaceKind kind in Enum.GetValues<AddressSpaceKind>())
        {
            writer.Write(string.Create(c, $"<rect x=\"{lx}\" y=\"{Margin}\" width=\"14\" height=\"14\" fill=\"{Colour(kind)}\"/><text x=\"{lx + 18}\" y=\"{Margin + 12}\">{kind}</text>\n"));
            lx += 110;
        }

        writer.Write(string.Create(c, $"<text x=\"{lx}\" y=\"{Margin + 12}\">arena {arena.Index}: {total / 1024} KiB in {regions.Count} regions, {bytesPerPixel / 1024:F1} KiB per pixel</text>\n"));
        writer.Write(body.ToString());
        writer.Write("</svg>\n");
    }

    private static string Colour(AddressSpaceKind kind) => kind switch
    {
        AddressSpaceKind.Active => "#2b7bb9",
        AddressSpaceKind.Dirty => "#e8590c",
        AddressSpaceKind.Muzzy => "#f5b041",
        AddressSpaceKind.Retained => "#c8c8c8",
        _ => "#000000",
    };
}
