using System;
using System.Diagnostics;
using System.Text;
using Allocator;

namespace QuickStart;

// The whole configuration, checked by the compiler: a bad value here is a build error.
[Arena(Retain = true, DirtyDecayMs = 5_000, MuzzyDecayMs = 0)]
[SizeClasses(LgQuantum = 4, LgPage = 12)]
[Guards(SmallEvery = 0, LargeEvery = 64)]
public sealed partial class RecordArena;

/// <summary>One parsed record; its name lives in arena memory, not on the GC heap.</summary>
public unsafe struct Order
{
    public int Id;
    public int Quantity;
    public decimal Price;
    public byte* Name;
    public int NameLength;

    public readonly string NameText => Encoding.UTF8.GetString(Name, NameLength);
}

public static unsafe class Program
{
    public static int Main(string[] args)
    {
        int count = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 300_000;
        byte[] input = MakeCsv(count);
        var watch = Stopwatch.StartNew();

        using var arena = new RecordArena();
        // The records themselves: one native array, sized up front.
        Span<Order> orders = arena.AllocateArray<Order>(count);
        int parsed = Parse(input, orders, arena);
        decimal total = 0;
        int longest = 0;
        for (int i = 0; i < parsed; i++)
        {
            total += orders[i].Price * orders[i].Quantity;
            if (orders[i].NameLength > orders[longest].NameLength) longest = i;
        }

        Console.WriteLine($"parsed {parsed:N0} orders in {watch.ElapsedMilliseconds} ms; total value {total:N2}; longest name '{orders[longest].NameText}'");
        Console.WriteLine($"GC heap allocations during the run: {GC.GetTotalAllocatedBytes() / 1024:N0} KiB (mostly the input text)");
        Console.WriteLine();
        Console.WriteLine(arena.GetStats());

        // A picture of the arena's address space: every extent by state, guard pages in black.
        string picture = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "quickstart-arena.svg");
        AddressSpacePicture.Write(arena.Core, picture);
        Console.WriteLine($"address-space picture: {picture}");

        // Drop the names, then give their pages back to the OS (the address space stays for reuse).
        for (int i = 0; i < parsed; i++) arena.FreeSized(orders[i].Name, (nuint)orders[i].NameLength);
        ArenaStats freed = arena.GetStats();
        arena.Purge();
        ArenaStats after = arena.GetStats();
        Console.WriteLine($"after freeing the names:  resident {freed.Resident:N0} B, dirty {freed.Dirty:N0} B");
        Console.WriteLine($"after Purge():            resident {after.Resident:N0} B, dirty {after.Dirty:N0} B, retained {after.Retained:N0} B");
        arena.Validate();
        return 0;
    }

    private static int Parse(ReadOnlySpan<byte> csv, Span<Order> orders, RecordArena arena)
    {
        int n = 0;
        while (!csv.IsEmpty && n < orders.Length)
        {
            int end = csv.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = end < 0 ? csv : csv[..end];
            csv = end < 0 ? default : csv[(end + 1)..];
            int a = line.IndexOf((byte)','), b = a + 1 + line[(a + 1)..].IndexOf((byte)','), c = b + 1 + line[(b + 1)..].IndexOf((byte)',');
            ReadOnlySpan<byte> name = line[(a + 1)..b];
            ref Order o = ref orders[n++];
            o.Id = int.Parse(line[..a]);
            o.Quantity = int.Parse(line[(b + 1)..c]);
            o.Price = decimal.Parse(line[(c + 1)..], provider: System.Globalization.CultureInfo.InvariantCulture);
            o.Name = (byte*)arena.Allocate((nuint)name.Length);
            o.NameLength = name.Length;
            name.CopyTo(new Span<byte>(o.Name, name.Length));
        }

        return n;
    }

    private static byte[] MakeCsv(int count)
    {
        var rng = new Random(42);
        string[] words = { "widget", "gadget", "sprocket", "flange", "gizmo", "doohickey", "bracket", "valve", "rotor", "bearing" };
        var sb = new StringBuilder(count * 40);
        for (int i = 0; i < count; i++)
        {
            int parts = rng.Next(1, 5);
            sb.Append(i).Append(',');
            for (int p = 0; p < parts; p++) sb.Append(p == 0 ? "" : "-").Append(words[rng.Next(words.Length)]);
            sb.Append(',').Append(rng.Next(1, 50)).Append(',').Append((rng.Next(100, 100_000) / 100m).ToString(System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }
}
