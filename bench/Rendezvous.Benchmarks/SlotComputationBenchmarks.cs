using BenchmarkDotNet.Attributes;
using NodaTime;
using Rendezvous.Domain;
using Rendezvous.Domain.Availability;
using Rendezvous.Domain.BookingPages;

namespace Rendezvous.Benchmarks;

/// <summary>
/// AvailabilityEngine.ComputeSlots over 30 days: a one-on-one page with one host's calendar, and a panel page of 25
/// hosts (the owner and 24 members) whose calendars are all passed in. Every host has 200 busy blocks drawn from a
/// seeded generator, so each run sees the same data.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class SlotComputationBenchmarks
{
    private const int Seed = 20271107;
    private const int Days = 30;
    private const int BlocksPerHost = 200;
    private const int PanelHosts = 25;

    private static readonly LocalDate From = new(2027, 3, 1);
    private static readonly Instant Now = Instant.FromUtc(2027, 2, 28, 0, 0);

    private BookingPageSettings _oneOnOne = null!;
    private BookingPageSettings _panel = null!;
    private AvailabilityQuery _oneOnOneQuery = null!;
    private AvailabilityQuery _panelQuery = null!;

    /// <summary>Slots found by the last run of each case, written to the console once so the workload can be judged.</summary>
    public int OneOnOneSlotCount { get; private set; }

    public int PanelSlotCount { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        var zone = DateTimeZoneProviders.Tzdb["America/New_York"];
        WeeklyHours[] weekdays =
        [
            .. Enumerable.Range(1, 5).Select(d => new WeeklyHours((IsoDayOfWeek)d, new TimeOfDayRange(9 * 60, 17 * 60))),
        ];
        _oneOnOne = new BookingPageSettings
        {
            Duration = Duration.FromMinutes(30),
            SlotInterval = Duration.FromMinutes(15),
            TimeZone = zone,
            WeeklyHours = weekdays,
            BufferBefore = Duration.FromMinutes(10),
            BufferAfter = Duration.FromMinutes(10),
            MinimumNotice = Duration.FromHours(4),
        };
        _panel = _oneOnOne with
        {
            SchedulingOption = SchedulingOption.Panel,
            PanelMemberIds = [.. Enumerable.Range(0, PanelHosts - 1).Select(_ => UserId.New())],
        };

        var random = new Random(Seed);
        var start = From.AtStartOfDayInZone(zone).ToInstant();
        var hosts = Enumerable.Range(0, PanelHosts).Select(_ => BusyBlocks(random, start)).ToArray();

        // The display zone differs from the page zone, and the range covers New York's spring-forward day.
        var query = new AvailabilityQuery
        {
            From = From,
            To = From.PlusDays(Days - 1),
            DisplayZone = DateTimeZoneProviders.Tzdb["Europe/London"],
            Now = Now,
        };
        _oneOnOneQuery = query with { Busy = hosts[0] };
        _panelQuery = query with { Busy = [.. hosts.SelectMany(h => h)] };

        OneOnOneSlotCount = AvailabilityEngine.ComputeSlots(_oneOnOne, _oneOnOneQuery).Count;
        PanelSlotCount = AvailabilityEngine.ComputeSlots(_panel, _panelQuery).Count;
        Console.WriteLine($"// one-on-one: {_oneOnOneQuery.Busy.Count} busy blocks, {OneOnOneSlotCount} slots; " +
            $"panel: {_panelQuery.Busy.Count} busy blocks, {PanelSlotCount} slots");
    }

    /// <summary>200 blocks of 15 to 90 minutes starting on quarter hours between 06:00 and 22:00 New York time, unsorted.</summary>
    private static BusyInterval[] BusyBlocks(Random random, Instant firstMidnight)
    {
        var blocks = new BusyInterval[BlocksPerHost];
        for (var i = 0; i < blocks.Length; i++)
        {
            var day = random.Next(Days);
            var quarter = random.Next(6 * 4, 22 * 4);
            var length = Duration.FromMinutes(15 * random.Next(1, 7));
            var from = firstMidnight + Duration.FromDays(day) + Duration.FromMinutes(15 * quarter);
            blocks[i] = new BusyInterval(from, from + length);
        }

        return blocks;
    }

    [Benchmark(Baseline = true, Description = "One-on-one, 1 host x 200 blocks, 30 days")]
    public IReadOnlyList<Slot> OneOnOne() => AvailabilityEngine.ComputeSlots(_oneOnOne, _oneOnOneQuery);

    [Benchmark(Description = "Panel, 25 hosts x 200 blocks, 30 days")]
    public IReadOnlyList<Slot> Panel() => AvailabilityEngine.ComputeSlots(_panel, _panelQuery);
}
