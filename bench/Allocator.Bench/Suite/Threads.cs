using System;
using System.Diagnostics;
using System.Threading;

namespace Allocator.Bench.Suite;

/// <summary>Runs a body on N fresh threads that start together; the time is from their common
/// start until the last one finished.</summary>
internal static class Threads
{
    public static double Run(int count, Action<int> body)
    {
        using var ready = new CountdownEvent(count);
        using var go = new ManualResetEventSlim(false);
        var threads = new Thread[count];
        Exception? failure = null;
        for (int i = 0; i < count; i++)
        {
            int index = i;
            threads[i] = new Thread(() =>
            {
                ready.Signal();
                go.Wait();
                try
                {
                    body(index);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failure, e, null);
                }
            }) { IsBackground = true, Name = $"suite-{index}" };
            threads[i].Start();
        }
        ready.Wait();
        long start = Stopwatch.GetTimestamp();
        go.Set();
        foreach (Thread t in threads)
            t.Join();
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        if (failure is not null)
            throw new InvalidOperationException("A workload thread failed.", failure);
        return seconds;
    }
}
