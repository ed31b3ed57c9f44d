using System.Text;
using NodaTime;
using Rendezvous.Calendars.ICalendar;
using Rendezvous.Calendars.Sync;
using Rendezvous.Domain.Bookings;
using Rendezvous.Integrations.Localization;

namespace Rendezvous.Server.Features.SelfService;

/// <summary>
/// "Add to calendar": the booking as an .ics file, behind the same signed link as the self-service pages. It is built
/// with the writer that fills hosts' calendars and email invitations, so the UID is the booking's everywhere and a
/// later invitation updates the event this file created.
/// </summary>
public static class SelfServiceFiles
{
    public static void MapSelfServiceFiles(this IEndpointRouteBuilder app) =>
        app.MapGet("/manage/{token}/event.ics", CalendarFileAsync).AllowAnonymous().ExcludeFromDescription();

    private static async Task<IResult> CalendarFileAsync(string token, SelfServiceService service, IClock clock, CancellationToken ct)
    {
        var target = await service.OpenAsync(token, LinkPurpose.View, ct);
        if (!target.IsSuccess)
        {
            return Results.NotFound();
        }

        var text = CalendarText(target.Value, clock.GetCurrentInstant());
        return Results.File(Encoding.UTF8.GetBytes(text), "text/calendar; charset=utf-8", "appointment.ics");
    }

    /// <summary>The file's text; its summary is in the request's language (the visitor's, on the public side).</summary>
    public static string CalendarText(LinkTarget t, Instant now)
    {
        var b = t.Booking;
        return BookingCalendarEvent.Write(new BookingEventContent(
            b.Id, Texts.T("{0} with {1}", t.Page.Title, t.Host.Name), t.Page.Description, t.Location, b.Start, b.End,
            b.Status == BookingStatus.Requested, t.Host.Name, t.Host.Email, t.Customer.Name, t.Customer.Email,
            Math.Max(0, b.History.Count - 1), now), ITipMethod.Publish);
    }
}
