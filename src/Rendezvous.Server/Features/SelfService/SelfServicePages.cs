using System.Text;
using NodaTime;
using NodaTime.Text;
using Rendezvous.Domain;
using Rendezvous.Server.Features.Availability;
using Rendezvous.Server.Features.Bookings;
using Rendezvous.Server.Infrastructure;
using static Rendezvous.Server.Infrastructure.Html;

namespace Rendezvous.Server.Features.SelfService;

/// <summary>
/// The pages behind the link in the confirmation email: view, cancel (with a confirmation step) and reschedule (from
/// live availability). The token in the address is the credential; forms post back to it. There is no session
/// cookie for a forged request to ride on, so these forms need no antiforgery token.
/// </summary>
public static class SelfServicePages
{
    private static readonly LocalDateTimePattern When = LocalDateTimePattern.CreateWithInvariantCulture("dddd d MMMM uuuu, HH:mm");
    private static readonly LocalTimePattern Time = LocalTimePattern.CreateWithInvariantCulture("HH:mm");

    public static void MapSelfServicePages(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/manage/{token}").AllowAnonymous().ExcludeFromDescription().DisableAntiforgery();
        group.MapGet("/", ViewAsync);
        group.MapGet("/cancel", CancelFormAsync);
        group.MapPost("/cancel", CancelAsync);
        group.MapGet("/reschedule", RescheduleFormAsync);
        group.MapPost("/reschedule", RescheduleAsync);
    }

    private static async Task<IResult> ViewAsync(string token, SelfServiceService service, CancellationToken ct)
    {
        var target = await service.OpenAsync(token, LinkPurpose.View, ct);
        if (!target.IsSuccess)
        {
            return NoLongerValid();
        }

        var view = service.Describe(target.Value);
        var body = new StringBuilder(Details(target.Value, view)).Append("<div class=\"actions\">");
        if (view.RescheduleToken is { } r)
        {
            body.Append($"<a href=\"/manage/{E(r)}/reschedule\">Reschedule</a>");
        }

        if (view.CancelToken is { } c)
        {
            body.Append($"<a class=\"secondary\" href=\"/manage/{E(c)}/cancel\">Cancel appointment</a>");
        }

        body.Append("</div>");
        foreach (var message in new[] { view.RescheduleMessage, view.CancelMessage }.Where(m => m is not null).Distinct())
        {
            body.Append($"<p class=\"notice\">{E(message)}</p>");
        }

        return Page("Your appointment", body.ToString());
    }

    private static async Task<IResult> CancelFormAsync(string token, SelfServiceService service, CancellationToken ct)
    {
        var target = await service.OpenAsync(token, LinkPurpose.Cancel, ct);
        if (!target.IsSuccess)
        {
            return NoLongerValid();
        }

        var view = service.Describe(target.Value);
        if (!view.CanCancel)
        {
            return Page("This appointment cannot be canceled online", $"<p class=\"notice\">{E(view.CancelMessage)}</p>");
        }

        return Page("Cancel this appointment?", Details(target.Value, view) +
            $"<form method=\"post\" action=\"/manage/{E(token)}/cancel\"><label for=\"reason\">Reason (optional)</label>" +
            "<textarea id=\"reason\" name=\"reason\" maxlength=\"2000\"></textarea>" +
            "<div class=\"actions\"><button type=\"submit\">Yes, cancel the appointment</button></div></form>");
    }

    private static async Task<IResult> CancelAsync(string token, HttpRequest request, SelfServiceService service, BookingService bookings, CancellationToken ct)
    {
        var target = await service.OpenAsync(token, LinkPurpose.Cancel, ct);
        if (!target.IsSuccess)
        {
            return NoLongerValid();
        }

        var form = await request.ReadFormAsync(ct);
        var reason = form["reason"].ToString();
        var result = await bookings.CancelAsCustomerAsync(target.Value.Booking.Id, reason.Length is > 0 and <= 2000 ? reason : null, ct);
        return result.IsSuccess
            ? Page("Your appointment is canceled", $"<p>Your appointment {E(target.Value.Page.Title)} with {E(target.Value.Host.Name)} is canceled. You will receive a confirmation by email.</p>")
            : Page("The appointment was not canceled", $"<p class=\"notice\">{E(SelfServiceEndpoints.WithContact(result.Error!, target.Value).Message)}</p>",
                Problems.StatusOf(result.Error!.Kind));
    }

    private static async Task<IResult> RescheduleFormAsync(string token, string? from, SelfServiceService service, AvailabilityService availability,
        IClock clock, CancellationToken ct)
    {
        var target = await service.OpenAsync(token, LinkPurpose.Reschedule, ct);
        if (!target.IsSuccess)
        {
            return NoLongerValid();
        }

        var t = target.Value;
        var view = service.Describe(t);
        if (!view.CanReschedule)
        {
            return Page("This appointment cannot be rescheduled online", $"<p class=\"notice\">{E(view.RescheduleMessage)}</p>");
        }

        var zone = TimeZones.Find(t.Customer.TimeZoneId) ?? t.Page.Settings.TimeZone;
        var now = clock.GetCurrentInstant();
        var first = ApiFormat.TryParseDate(from, out var d) ? d : now.InZone(zone).Date;
        var slots = await availability.GetSlotsAsync(t.Page, first, first.PlusDays(6), zone, now, t.Booking.Id, ct);
        var body = new StringBuilder(Details(t, view))
            .Append($"<p>Pick a new time (shown in {E(zone.Id)}):</p>");
        foreach (var day in slots.GroupBy(s => s.Start.InZone(zone).Date))
        {
            body.Append($"<h2>{E(day.Key.ToString("dddd d MMMM", System.Globalization.CultureInfo.InvariantCulture))}</h2><div class=\"slots\">");
            foreach (var slot in day)
            {
                body.Append($"<form method=\"post\" action=\"/manage/{E(token)}/reschedule\"><input type=\"hidden\" name=\"start\" value=\"{E(ApiFormat.Format(slot.Start))}\">")
                    .Append($"<button type=\"submit\" class=\"secondary\">{E(Time.Format(slot.Start.InZone(zone).TimeOfDay))}</button></form>");
            }

            body.Append("</div>");
        }

        if (slots.Count == 0)
        {
            body.Append("<p>No free times in these seven days.</p>");
        }

        body.Append("<div class=\"actions\">");
        if (first > now.InZone(zone).Date)
        {
            body.Append($"<a class=\"secondary\" href=\"/manage/{E(token)}/reschedule?from={E(first.PlusDays(-7).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture))}\">Earlier</a>");
        }

        body.Append($"<a class=\"secondary\" href=\"/manage/{E(token)}/reschedule?from={E(first.PlusDays(7).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture))}\">Later</a></div>");
        return Page("Reschedule your appointment", body.ToString());
    }

    private static async Task<IResult> RescheduleAsync(string token, HttpRequest request, SelfServiceService service, BookingService bookings, CancellationToken ct)
    {
        var target = await service.OpenAsync(token, LinkPurpose.Reschedule, ct);
        if (!target.IsSuccess)
        {
            return NoLongerValid();
        }

        var form = await request.ReadFormAsync(ct);
        var result = await bookings.RescheduleAsCustomerAsync(target.Value.Booking.Id, form["start"].ToString(), ct);
        if (!result.IsSuccess)
        {
            return Page("The appointment was not moved", $"<p class=\"notice\">{E(SelfServiceEndpoints.WithContact(result.Error!, target.Value).Message)}</p>" +
                $"<p><a href=\"/manage/{E(token)}/reschedule\">Pick another time</a></p>", Problems.StatusOf(result.Error!.Kind));
        }

        var updated = target.Value with { Booking = result.Value };
        return Page("Your appointment is moved", Details(updated, service.Describe(updated)) + "<p>You will receive a confirmation by email.</p>");
    }

    private static string Details(LinkTarget t, SelfServiceView view)
    {
        var zone = TimeZones.Find(view.Booking.TimeZone) ?? DateTimeZone.Utc;
        return "<dl>" +
            $"<dt>What</dt><dd>{E(t.Page.Title)}</dd>" +
            $"<dt>With</dt><dd>{E(t.Host.Name)}</dd>" +
            $"<dt>When</dt><dd>{E(When.Format(t.Booking.Start.InZone(zone).LocalDateTime))} ({E(zone.Id)})</dd>" +
            (t.Page.Location is { } where ? $"<dt>Where</dt><dd>{E(where)}</dd>" : "") +
            $"<dt>Status</dt><dd>{E(t.Booking.DetailedStatus)}</dd>" +
            "</dl>";
    }
}
