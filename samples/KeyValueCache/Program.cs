using System;
using System.Collections.Generic;
using System.Diagnostics;
using Allocator;

namespace KeyValueCache;

/// <summary>Values live in arena memory: the GC sees only the small index, never the bytes.</summary>
[Arena(DirtyDecayMs = 1_000)]
public sealed partial class CacheArena;

public static unsafe class Program
{
    private const int Keys = 200_000;
    private const int Operations = 3_000_000;

    public static void Main()
    {
        Console.WriteLine($"A cache of {Keys:N0} keys with values of 64..4096 bytes; {Operations:N0} random gets and sets (80/20).");
        Run("byte[] values", new ManagedStore());
        using var arena = new CacheArena();
        Run("arena values", new ArenaStore(arena));
        Console.WriteLine();
        Console.WriteLine(arena.GetStats());
    }

    private interface IStore
    {
        void Set(int key, ReadOnlySpan<byte> value);

        int Get(int key);

        void Clear();
    }

    private sealed class ManagedStore : IStore
    {
        private readonly Dictionary<int, byte[]> _values = new();

        public void Set(int key, ReadOnlySpan<byte> value) => _values[key] = value.ToArray();

        public int Get(int key) => _values.TryGetValue(key, out byte[]? v) ? v[0] + v.Length : 0;

        public void Clear() => _values.Clear();
    }

    private sealed class ArenaStore(CacheArena arena) : IStore
    {
        private readonly Dictionary<int, (nint Pointer, int Length)> _values = new();

        public void Set(int key, ReadOnlySpan<byte> value)
        {
            if (_values.TryGetValue(key, out var old)) arena.FreeSized((void*)old.Pointer, (nuint)old.Length);
            byte* p = (byte*)arena.Allocate((nuint)value.Length);
            value.CopyTo(new Span<byte>(p, value.Length));
            _values[key] = ((nint)p, value.Length);
        }

        public int Get(int key) => _values.TryGetValue(key, out var v) ? ((byte*)v.Pointer)[0] + v.Length : 0;

        public void Clear()
        {
            foreach (var (p, length) in _values.Values) arena.FreeSized((void*)p, (nuint)length);
            _values.Clear();
        }
    }

    private static void Run(string name, IStore store)
    {
        var rng = new Random(7);
        Span<byte> buffer = stackalloc byte[4096];
        buffer.Fill(1);
        for (int k = 0; k < Keys; k++) store.Set(k, buffer[..rng.Next(64, 4097)]);
        GC.Collect();
        TimeSpan pausesBefore = GC.GetTotalPauseDuration();
        int gen2Before = GC.CollectionCount(2);
        long checksum = 0;
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < Operations; i++)
        {
            int key = rng.Next(Keys);
            if (rng.Next(10) < 8) checksum += store.Get(key);
            else store.Set(key, buffer[..rng.Next(64, 4097)]);
        }

        watch.Stop();
        Console.WriteLine($"{name,-14} {Operations / watch.Elapsed.TotalSeconds / 1e6,6:F2} M ops/s; GC pauses {(GC.GetTotalPauseDuration() - pausesBefore).TotalMilliseconds,7:F1} ms; gen2 collections {GC.CollectionCount(2) - gen2Before}; checksum {checksum}");
        store.Clear();
    }
}
