using System;
using System.Threading;

namespace Allocator.Tests.Arenas;

/// <summary>
/// A metrics listener reads every live arena from its own thread, so GetStats, Validate,
/// GetAddressSpace and GetHeapProfile can meet Dispose: they must answer or throw
/// ObjectDisposedException, never read what Dispose freed.
/// </summary>
public sealed unsafe class ArenaReadersDuringDisposeTests
{
    [Fact]
    public void ReadersRacingDisposeGetAnAnswerOrObjectDisposed()
    {
        Arena? current = null;
        bool stop = false;
        long answers = 0, refused = 0;
        Exception? failure = null;
        var reader = new Thread(() =>
        {
            try
            {
                while (!Volatile.Read(ref stop))
                {
                    Arena? arena = Volatile.Read(ref current);
                    if (arena is null) continue;
                    try
                    {
                        long n = arena.GetStats().Bins.Count + arena.GetAddressSpace().Count + arena.GetHeapProfile().Sites.Count;
                        arena.Validate();
                        if (n > 0) answers++;
                    }
                    catch (ObjectDisposedException)
                    {
                        refused++;
                    }
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        reader.Start();
        for (int round = 0; round < 300 && failure is null; round++)
        {
            var arena = Arena.Create(new ArenaOptions { ThreadCache = false });
            for (int i = 0; i < 64; i++) arena.Allocate((nuint)(16 << (i % 13)));
            Volatile.Write(ref current, arena);
            Thread.SpinWait(2000 + round * 37 % 5000);
            arena.Dispose();
        }

        Volatile.Write(ref stop, true);
        reader.Join();
        Assert.Null(failure);
        // The race was run: some reads were answered, and some met a disposed arena.
        Assert.True(answers > 0, "no read was answered");
        Assert.True(refused > 0, "no read met a disposed arena, so the race was never run");
    }
}
