using FsCheck;
using Microsoft.FSharp.Core;

namespace Rendezvous.Domain.Tests.Support;

/// <summary>
/// FsCheck settings for property tests: a fixed seed so a run is repeatable, unless RENDEZVOUS_PROPERTY_SEED names
/// another one; RENDEZVOUS_PROPERTY_RUNS raises the number of cases for a longer local hunt.
/// </summary>
internal static class Properties
{
    private const ulong DefaultSeed = 20271107;

    public static Config Config(int runs)
    {
        var seed = ulong.TryParse(Environment.GetEnvironmentVariable("RENDEZVOUS_PROPERTY_SEED"), out var s) ? s : DefaultSeed;
        if (int.TryParse(Environment.GetEnvironmentVariable("RENDEZVOUS_PROPERTY_RUNS"), out var r) && r > 0)
        {
            runs = r;
        }

        var replay = new Replay(new Rnd(seed, 0x9E3779B97F4A7C15UL | 1), FSharpOption<int>.None);
        return FsCheck.Config.QuickThrowOnFailure.WithMaxTest(runs).WithReplay(FSharpOption<Replay>.Some(replay));
    }
}
