using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Runtime.CompilerServices;
using Allocator.Profiling;
using Allocator.Tests.Profiling.Pprof;

namespace Allocator.Tests.Profiling;

/// <summary>The pprof and folded-stack writers: what they write reads back to the profile's figures.</summary>
public sealed unsafe class ProfileWriterTests
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Small(Arena arena, List<nint> blocks)
    {
        for (int i = 0; i < 30; i++) blocks.Add((nint)arena.Allocate(96));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Large(Arena arena, List<nint> blocks)
    {
        for (int i = 0; i < 3; i++) blocks.Add((nint)arena.Allocate(65_536));
    }

    private static (HeapProfile Profile, Arena Arena, List<nint> Blocks) Profiled()
    {
        Arena arena = Arena.Create(new ArenaOptions { ProfileSampleBytes = 1, BackgroundPurge = false });
        var blocks = new List<nint>();
        Small(arena, blocks);
        Large(arena, blocks);
        arena.Free((void*)blocks[0]);
        return (arena.GetHeapProfile(), arena, blocks);
    }

    [Fact]
    public void PprofParsesBackWithTheSchemaToTheSameTotals()
    {
        (HeapProfile profile, Arena arena, _) = Profiled();
        using (arena)
        {
            var file = new MemoryStream();
            profile.WritePprof(file);
            file.Position = 0;
            Profile parsed = Profile.Parser.ParseFrom(new GZipStream(file, CompressionMode.Decompress));

            string Str(long i) => parsed.StringTable[(int)i];
            Assert.Equal(string.Empty, parsed.StringTable[0]);
            Assert.Equal(new[] { "alloc_objects/count", "alloc_space/bytes", "inuse_objects/count", "inuse_space/bytes" },
                parsed.SampleType.Select(t => $"{Str(t.Type)}/{Str(t.Unit)}"));
            Assert.Equal("space", Str(parsed.PeriodType.Type));
            Assert.Equal(1, parsed.Period);
            Assert.Equal("inuse_space", Str(parsed.DefaultSampleType));

            Assert.Equal(profile.Sites.Count, parsed.Sample.Count);
            Assert.Equal(profile.AllocatedCount, parsed.Sample.Sum(s => s.Value[0]));
            Assert.Equal(profile.AllocatedBytes, parsed.Sample.Sum(s => s.Value[1]));
            Assert.Equal(profile.LiveCount, parsed.Sample.Sum(s => s.Value[2]));
            Assert.Equal(profile.LiveBytes, parsed.Sample.Sum(s => s.Value[3]));
            Assert.Equal(29 * 96 + 3 * 65_536, profile.LiveBytes);

            // Every location resolves to a function, and each sample's frames are the site's, innermost first.
            Dictionary<ulong, string> functions = parsed.Function.ToDictionary(f => f.Id, f => Str(f.Name));
            Dictionary<ulong, string> locations = parsed.Location.ToDictionary(l => l.Id, l => functions[l.Line.Single().FunctionId]);
            for (int i = 0; i < profile.Sites.Count; i++)
                Assert.Equal(profile.Sites[i].Frames, parsed.Sample[i].LocationId.Select(id => locations[id]));
            Assert.Contains(parsed.Sample, s => locations[s.LocationId[0]].EndsWith("ProfileWriterTests.Small", StringComparison.Ordinal) && s.Value[3] == 29 * 96);
        }
    }

    [Fact]
    public void FoldedStacksListEachLiveSiteOutermostFirstWithItsBytes()
    {
        (HeapProfile profile, Arena arena, _) = Profiled();
        using (arena)
        {
            var text = new StringWriter();
            profile.WriteFolded(text);
            string[] lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(profile.Sites.Count(s => s.LiveBytes > 0), lines.Length);
            long total = 0;
            foreach (string line in lines)
            {
                int space = line.LastIndexOf(' ');
                string[] frames = line[..space].Split(';');
                Assert.DoesNotContain(' ', line[..space]);
                total += long.Parse(line[(space + 1)..], System.Globalization.CultureInfo.InvariantCulture);
                HeapProfileSite site = profile.Sites.Single(s => s.Frames.Count == frames.Length && s.Frames[0] == frames[^1]);
                Assert.Equal(site.Frames.Reverse().Select(f => f.Replace(' ', '_')), frames);
            }

            Assert.Equal(profile.LiveBytes, total);
            Assert.Contains(lines, l => l.Contains("ProfileWriterTests.Large 196608", StringComparison.Ordinal));
        }
    }
}
