using NodaTime;
using Rendezvous.Calendars.ICalendar;
using Rendezvous.Calendars.Sync;
using Rendezvous.Domain;
using Shouldly;

namespace Rendezvous.Calendars.Tests.Sync;

public sealed class SyncDecisionsTests
{
    private static readonly Instant Start = Instant.FromUtc(2027, 3, 2, 14, 0);
    private static readonly WrittenEvent Written = new(Start, Start + Duration.FromMinutes(30), "\"etag-1\"");

    private static BookingEventContent Content(BookingId id) => new(id, "Intro call", "Agenda", "Video", Start, Start + Duration.FromMinutes(30),
        false, "Ada Admin", "ada@demo.example", "Grace Hopper", "grace@example.com", 3, Instant.FromUtc(2027, 3, 1, 8, 0));

    [Fact]
    public void Booking_event_round_trips_and_is_recognised_by_its_uid()
    {
        var id = BookingId.New();
        var text = BookingCalendarEvent.Write(Content(id));
        var parsed = ICalendarReader.Parse(text);
        parsed.Method.ShouldBeNull();
        var ev = parsed.Events.ShouldHaveSingleItem();
        BookingCalendarEvent.TryGetBookingId(ev).ShouldBe(id);
        ev.Sequence.ShouldBe(3);
        ev.Status.ShouldBe(EventStatus.Confirmed);
        ev.Start!.Value.ToInstant(DateTimeZone.Utc).ShouldBe(Start);
        ev.Attendees.ShouldHaveSingleItem().Email.ShouldBe("grace@example.com");
        ev.Organizer!.Email.ShouldBe("ada@demo.example");
    }

    [Fact]
    public void Cancel_invitation_carries_method_and_cancelled_status()
    {
        var ev = ICalendarReader.Parse(BookingCalendarEvent.Write(Content(BookingId.New()), ITipMethod.Cancel));
        ev.Method.ShouldBe(ITipMethod.Cancel);
        ev.Events[0].Status.ShouldBe(EventStatus.Cancelled);
    }

    [Fact]
    public void Foreign_events_are_not_taken_for_bookings()
    {
        BookingCalendarEvent.TryGetBookingId(new CalendarEvent { Uid = "abc@google.com" }).ShouldBeNull();
        BookingCalendarEvent.TryGetBookingId(new CalendarEvent { Uid = "not-a-guid@rendezvous" }).ShouldBeNull();
        var id = BookingId.New();
        BookingCalendarEvent.TryGetBookingId(new CalendarEvent
        {
            Uid = "copied-by-a-client",
            Extensions = [new CalendarExtensionProperty(BookingCalendarEvent.BookingIdProperty, id.ToString())],
        }).ShouldBe(id);
    }

    [Fact]
    public void Our_own_write_coming_back_is_an_echo()
    {
        var ev = new CalendarEvent { Start = CalendarDateTime.FromInstant(Start + Duration.FromHours(1)) };
        SyncDecisions.Classify(Written, "\"etag-1\"", ev, DateTimeZone.Utc, out _).ShouldBe(ExternalChange.Echo);
    }

    [Fact]
    public void Deleted_or_cancelled_event_is_a_deletion()
    {
        SyncDecisions.Classify(Written, null, null, DateTimeZone.Utc, out _).ShouldBe(ExternalChange.Deleted);
        var cancelled = new CalendarEvent { Start = CalendarDateTime.FromInstant(Start), Status = EventStatus.Cancelled };
        SyncDecisions.Classify(Written, "\"etag-2\"", cancelled, DateTimeZone.Utc, out _).ShouldBe(ExternalChange.Deleted);
    }

    [Fact]
    public void Moved_start_is_read_in_the_users_zone_when_floating()
    {
        var moved = new CalendarEvent { Start = CalendarDateTime.Floating(new LocalDateTime(2027, 3, 2, 16, 0)) };
        var zone = DateTimeZoneProviders.Tzdb["America/New_York"];
        SyncDecisions.Classify(Written, "\"etag-2\"", moved, zone, out var newStart).ShouldBe(ExternalChange.Moved);
        newStart.ShouldBe(Instant.FromUtc(2027, 3, 2, 21, 0));

        var retitled = new CalendarEvent { Start = CalendarDateTime.FromInstant(Start), Summary = "Renamed" };
        SyncDecisions.Classify(Written, "\"etag-3\"", retitled, zone, out _).ShouldBe(ExternalChange.OtherEdit);
    }

    [Theory]
    // change, booking calendar, primary host, cancel toggle, move toggle -> action
    [InlineData(ExternalChange.Deleted, true, true, true, false, SyncAction.Cancel)]
    [InlineData(ExternalChange.Deleted, true, true, false, true, SyncAction.None)]
    [InlineData(ExternalChange.Moved, true, true, false, true, SyncAction.Reschedule)]
    [InlineData(ExternalChange.Moved, true, true, true, false, SyncAction.DeferMove)]
    [InlineData(ExternalChange.Deleted, false, true, true, true, SyncAction.None)]
    [InlineData(ExternalChange.Moved, false, true, true, true, SyncAction.None)]
    [InlineData(ExternalChange.Deleted, true, false, true, true, SyncAction.None)]
    [InlineData(ExternalChange.Moved, true, false, true, true, SyncAction.None)]
    [InlineData(ExternalChange.Echo, true, true, true, true, SyncAction.None)]
    [InlineData(ExternalChange.OtherEdit, true, true, true, true, SyncAction.None)]
    public void Seed_rules_decide_what_a_change_does(ExternalChange change, bool bookingCalendar, bool primary, bool cancelToggle, bool moveToggle, SyncAction expected) =>
        SyncDecisions.Decide(change, bookingCalendar, primary, cancelToggle, moveToggle).ShouldBe(expected);
}
