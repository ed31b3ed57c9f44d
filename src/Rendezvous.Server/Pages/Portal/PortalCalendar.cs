using NodaTime;
using NodaTime.Text;
using Rendezvous.Server.Features.Portal;

namespace Rendezvous.Server.Pages.Portal;

/// <summary>
/// The portal's appointments as a calendar: a month (whole weeks, Monday first) or one week, each appointment on the day
/// it falls in its own zone (the zone its time is shown in everywhere else).
/// </summary>
public sealed class PortalCalendar
{
    private static readonly LocalDatePattern MonthPattern = LocalDatePattern.CreateWithInvariantCulture("uuuu-MM");

    public required bool IsWeek { get; init; }

    /// <summary>The first of the month, or the Monday of the week.</summary>
    public required LocalDate Anchor { get; init; }

    /// <summary>Whole weeks, Monday to Sunday.</summary>
    public required IReadOnlyList<IReadOnlyList<LocalDate>> Weeks { get; init; }

    public required ILookup<LocalDate, (PortalAppointment Appointment, LocalTime Time)> ByDay { get; init; }

    public string Title => IsWeek
        ? $"Week of {Anchor.ToString("d MMMM uuuu", System.Globalization.CultureInfo.InvariantCulture)}"
        : Anchor.ToString("MMMM uuuu", System.Globalization.CultureInfo.InvariantCulture);

    public string Previous => Param(IsWeek ? Anchor.PlusWeeks(-1) : Anchor.PlusMonths(-1));

    public string Next => Param(IsWeek ? Anchor.PlusWeeks(1) : Anchor.PlusMonths(1));

    public string Param(LocalDate date) => IsWeek ? LocalDatePattern.Iso.Format(date) : MonthPattern.Format(date);

    /// <summary>
    /// <paramref name="at"/> names the month or a day of the week; without it (or when it does not parse) the calendar opens
    /// where the next appointment is, or at today's date when none is coming.
    /// </summary>
    public static PortalCalendar Build(IReadOnlyList<PortalAppointment> appointments, bool week, string? at, Instant now)
    {
        var placed = appointments
            .Select(a => (Appointment: a, When: OffsetDateTimePattern.ExtendedIso.Parse(a.View.Booking.Start)))
            .Where(x => x.When.Success)
            .Select(x => (x.Appointment, Local: x.When.Value.LocalDateTime))
            .ToList();
        var fallback = placed.Where(p => p.Appointment.Upcoming).Select(p => (LocalDate?)p.Local.Date).Min() ?? now.InUtc().Date;
        LocalDate anchor;
        if (week)
        {
            var day = at is not null && LocalDatePattern.Iso.Parse(at) is { Success: true } d ? d.Value : fallback;
            anchor = day.With(DateAdjusters.PreviousOrSame(IsoDayOfWeek.Monday));
        }
        else
        {
            var month = at is not null && MonthPattern.Parse(at) is { Success: true } m ? m.Value : fallback;
            anchor = new LocalDate(month.Year, month.Month, 1);
        }

        var first = anchor.With(DateAdjusters.PreviousOrSame(IsoDayOfWeek.Monday));
        var last = week ? first.PlusDays(6) : anchor.With(DateAdjusters.EndOfMonth).With(DateAdjusters.NextOrSame(IsoDayOfWeek.Sunday));
        var weeks = new List<IReadOnlyList<LocalDate>>();
        for (var monday = first; monday <= last; monday = monday.PlusWeeks(1))
        {
            weeks.Add([.. Enumerable.Range(0, 7).Select(monday.PlusDays)]);
        }

        return new PortalCalendar
        {
            IsWeek = week,
            Anchor = anchor,
            Weeks = weeks,
            ByDay = placed.OrderBy(p => p.Local).ToLookup(p => p.Local.Date, p => (p.Appointment, p.Local.TimeOfDay)),
        };
    }
}
