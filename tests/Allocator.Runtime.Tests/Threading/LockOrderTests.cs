using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using Allocator.Threading;

namespace Allocator.Tests.Threading;

public class LockOrderTests
{
    [Fact]
    public void TheWitnessIsCompiledIntoTheTestBuild()
    {
        // Every other test here proves something only if the check is really there.
        Assert.True(RankedLock.WitnessEnabled);
    }

    [Fact]
    public void TakingALowerRankWhileHoldingAHigherOneThrowsNamingBoth()
    {
        var bin = new RankedLock(LockRank.Bin);
        var ecache = new RankedLock(LockRank.Ecache);
        using (bin.EnterScope())
        {
            var e = Assert.Throws<InvalidOperationException>(() => ecache.Enter());
            Assert.Contains($"Ecache lock (rank {(int)LockRank.Ecache})", e.Message);
            Assert.Contains($"Bin lock (rank {(int)LockRank.Bin})", e.Message);
            Assert.False(ecache.IsHeldByCurrentThread);
        }

        // The refused lock was never taken and the held one is released: the thread is clean again.
        using (ecache.EnterScope())
        using (bin.EnterScope())
            Assert.True(bin.IsHeldByCurrentThread);
    }

    [Fact]
    public void TakingASecondLockOfTheSameRankThrows()
    {
        var dirty = new RankedLock(LockRank.Ecache);
        var muzzy = new RankedLock(LockRank.Ecache);
        using (dirty.EnterScope())
        {
            Assert.Throws<InvalidOperationException>(() => muzzy.EnterScope());
            Assert.Throws<InvalidOperationException>(() => muzzy.TryEnter());
        }
    }

    [Fact]
    public void TheOrderDownTheRanksIsAllowedAndReleasesInAnyOrder()
    {
        RankedLock[] locks = Enum.GetValues<LockRank>().Select(r => new RankedLock(r)).ToArray();
        int middle = locks.Length / 2;
        foreach (RankedLock l in locks) l.Enter();
        try
        {
            foreach (RankedLock l in locks) Assert.True(l.IsHeldByCurrentThread);
            // Released out of order, a lock cannot be taken back while higher ranks are still held.
            locks[middle].Exit();
            Assert.Throws<InvalidOperationException>(() => locks[middle].Enter());
        }
        finally
        {
            for (int i = 0; i < locks.Length; i++)
            {
                if (i != middle) locks[i].Exit();
            }
        }

        // Everything released: the thread may start again from any rank.
        using (locks[middle].EnterScope())
            Assert.True(locks[middle].IsHeldByCurrentThread);
    }

    [Fact]
    public void EachThreadHasItsOwnWitness()
    {
        var bin = new RankedLock(LockRank.Bin);
        var ecache = new RankedLock(LockRank.Ecache);
        using (bin.EnterScope())
        {
            Exception? failure = null;
            var other = new Thread(() =>
            {
                try
                {
                    using (ecache.EnterScope()) { }
                }
                catch (Exception e)
                {
                    failure = e;
                }
            });
            other.Start();
            other.Join();
            Assert.Null(failure);
        }
    }

    [Fact]
    public void TheArchitectureDocListsTheRanksInTheEnumsOrder()
    {
        string doc = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "docs", "architecture.md"));
        int start = doc.IndexOf("## Lock order", StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/architecture.md has no Lock order section");
        int end = doc.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        string section = end < 0 ? doc[start..] : doc[start..end];
        var listed = Regex.Matches(section, @"^(\d+)\. \*\*`(\w+)`\*\*", RegexOptions.Multiline)
            .Select(m => (Number: int.Parse(m.Groups[1].Value), Name: m.Groups[2].Value))
            .ToArray();
        var ranks = Enum.GetValues<LockRank>().Select(r => ((int)r, r.ToString())).ToArray();
        Assert.Equal(ranks, listed);
    }
}
