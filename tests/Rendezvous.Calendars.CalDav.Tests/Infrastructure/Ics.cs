using System.Globalization;
using NodaTime;

namespace Rendezvous.Calendars.CalDav.Tests.Infrastructure;

/// <summary>Minimal valid iCalendar text for tests (the client itself never parses iCalendar).</summary>
public static class Ics
{
    public static string Event(string uid, Instant start, Instant end, string summary = "Meeting") =>
        string.Join(
            "\r\n",
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Rendezvous//CalDAV tests//EN",
            "BEGIN:VEVENT",
            "UID:" + uid,
            "DTSTAMP:20270101T000000Z",
            "DTSTART:" + Utc(start),
            "DTEND:" + Utc(end),
            "SUMMARY:" + summary,
            "END:VEVENT",
            "END:VCALENDAR",
            string.Empty);

    public static Instant At(int year, int month, int day, int hour, int minute = 0) => Instant.FromUtc(year, month, day, hour, minute);

    private static string Utc(Instant instant) => instant.ToDateTimeUtc().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
}
