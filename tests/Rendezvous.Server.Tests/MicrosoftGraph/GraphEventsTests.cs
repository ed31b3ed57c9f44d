using Microsoft.Graph.Models;
using NodaTime;
using Rendezvous.Calendars.Graph;
using Rendezvous.Domain;
using Shouldly;

namespace Rendezvous.Server.Tests.MicrosoftGraph;

/// <summary>How Graph events become busy time and booking observations (https://learn.microsoft.com/en-us/graph/api/resources/event).</summary>
public sealed class GraphEventsTests
{
    private static readonly DateTimeZone Kathmandu = DateTimeZoneProviders.Tzdb["Asia/Kathmandu"];

    private static Event At(string start, string end, string zone = "UTC") => new()
    {
        Id = "e1",
        ChangeKey = "ck",
        Start = new DateTimeTimeZone { DateTime = start, TimeZone = zone },
        End = new DateTimeTimeZone { DateTime = end, TimeZone = zone },
    };

    [Theory]
    [InlineData(FreeBusyStatus.Busy, true)]
    [InlineData(FreeBusyStatus.Oof, true)]
    [InlineData(FreeBusyStatus.Tentative, true)]
    [InlineData(FreeBusyStatus.Unknown, true)]
    [InlineData(FreeBusyStatus.Free, false)]
    [InlineData(FreeBusyStatus.WorkingElsewhere, false)]
    public void ShowAs_decides_whether_an_event_is_busy(FreeBusyStatus showAs, bool busy)
    {
        var e = At("2027-03-02T10:00:00.0000000", "2027-03-02T11:00:00.0000000");
        e.ShowAs = showAs;
        GraphEvents.Read(e, DateTimeZone.Utc).Busy.Count.ShouldBe(busy ? 1 : 0);
    }

    [Fact]
    public void A_cancelled_meeting_is_not_busy()
    {
        var e = At("2027-03-02T10:00:00.0000000", "2027-03-02T11:00:00.0000000");
        e.IsCancelled = true;
        GraphEvents.Read(e, DateTimeZone.Utc).Busy.ShouldBeEmpty();
    }

    [Fact]
    public void Times_in_a_windows_zone_name_are_read_in_that_zone()
    {
        var busy = GraphEvents.Read(At("2027-03-15T09:00:00.0000000", "2027-03-15T10:00:00.0000000", "Eastern Standard Time"), DateTimeZone.Utc).Busy.ShouldHaveSingleItem();
        // New York is on daylight time from 2027-03-14.
        busy.Start.ShouldBe(Instant.FromUtc(2027, 3, 15, 13, 0));
    }

    [Fact]
    public void An_all_day_event_covers_its_dates_in_the_users_zone()
    {
        var e = At("2027-03-02T00:00:00.0000000", "2027-03-03T00:00:00.0000000");
        e.IsAllDay = true;
        var busy = GraphEvents.Read(e, Kathmandu).Busy.ShouldHaveSingleItem();
        busy.Start.ShouldBe(Instant.FromUtc(2027, 3, 1, 18, 15));
        busy.End.ShouldBe(Instant.FromUtc(2027, 3, 2, 18, 15));
    }

    [Fact]
    public void Our_event_is_recognised_by_its_transaction_id_and_never_counted_as_busy()
    {
        var booking = new BookingId(Guid.NewGuid());
        var e = At("2027-03-02T10:00:00.0000000", "2027-03-02T10:30:00.0000000");
        e.TransactionId = GraphCalendarProvider.TransactionIdOf(booking, 3);
        var item = GraphEvents.Read(e, DateTimeZone.Utc);
        item.BookingId.ShouldBe(booking);
        item.Busy.ShouldBeEmpty();
        item.Event!.Start.ShouldBe(Instant.FromUtc(2027, 3, 2, 10, 0));
        GraphCalendarProvider.BookingIdOf("someone-else's-id").ShouldBeNull();
    }
}
