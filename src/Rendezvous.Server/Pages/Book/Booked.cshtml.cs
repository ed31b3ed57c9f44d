using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Rendezvous.Data;
using Rendezvous.Domain.Bookings;
using Rendezvous.Server.Features.SelfService;
using Rendezvous.Server.Features.Web;
using static Rendezvous.Integrations.Localization.Texts;

namespace Rendezvous.Server.Pages.Book;

/// <summary>The confirmation after booking: the time, "add to calendar", and the self-service link (also sent by email).</summary>
public sealed class BookedModel(RendezvousDbContext db, SelfServiceService selfService, SelfServiceLinks links) : WebPageModel
{
    public LinkTarget Booking { get; private set; } = null!;

    public PublicPage Target { get; private set; } = null!;

    public string Token { get; private set; } = "";

    /// <summary>Every session when the booking is part of a package, each with its own links.</summary>
    public IReadOnlyList<(Booking Session, string Token)> Sessions { get; private set; } = [];

    public NodaTime.DateTimeZone Zone { get; private set; } = NodaTime.DateTimeZone.Utc;

    /// <summary>Set while a booking of a paid page waits for its payment.</summary>
    public Booking? AwaitingPayment { get; private set; }

    public async Task<IActionResult> OnGetAsync(string org, string slug, string token, CancellationToken ct)
    {
        var opened = await selfService.OpenAsync(token, LinkPurpose.View, ct);
        var target = await PublicPage.FindAsync(db, org, slug, ct);
        if (target is not null)
        {
            target = await EmbeddedAsync(target, ct);
        }

        if (!opened.IsSuccess && target is not null && links.Read(token) is { } read)
        {
            // Not live yet: a paid page's booking waits for the payment.
            var pending = await db.Bookings.AsNoTracking().FirstOrDefaultAsync(b => b.Id == read.Booking && b.BookingPageId == target.Page.Id, ct);
            if (pending is { Status: BookingStatus.AwaitingPayment })
            {
                Target = target;
                AwaitingPayment = pending;
                Zone = target.Page.Settings.TimeZone;
                ViewData["Title"] = T("Payment needed");
                ViewData["Brand"] = target.Organization.Name;
                ViewData["BrandHref"] = target.Path;
                return Page();
            }
        }

        if (!opened.IsSuccess || target is null || opened.Value.Page.Id != target.Page.Id)
        {
            return Missing(T("This link is no longer valid"), T("The appointment may have been canceled or has already taken place."));
        }

        Booking = opened.Value;
        Target = target;
        Token = token;
        Zone = Rendezvous.Domain.TimeZones.Find(Booking.Customer.TimeZoneId) ?? target.Page.Settings.TimeZone;
        ViewData["Title"] = Booking.Booking.Status == BookingStatus.Requested ? T("Request sent") : T("You are booked");
        ViewData["Brand"] = target.Organization.Name;
        ViewData["BrandHref"] = target.Path;
        if (target.IsEmbedded)
        {
            // What the host page's "rendezvous:booked" event carries: the booking, never its self-service link.
            var b = Booking.Booking;
            ViewData["EmbedBooked"] = System.Text.Json.JsonSerializer.Serialize(new
            {
                id = b.Id.ToString(),
                page = target.Page.Slug,
                status = BookingLifecycle.ApiName(b.Status),
                start = Rendezvous.Integrations.ApiFormat.Format(b.Start),
                end = Rendezvous.Integrations.ApiFormat.Format(b.End),
            });
        }

        if (Booking.Booking.PackageId is { } package)
        {
            var sessions = await db.Bookings.AsNoTracking().Where(b => b.PackageId == package).OrderBy(b => b.Start).ToListAsync(ct);
            Sessions = [.. sessions.Select(s => (s, links.CreateToken(s.Id, LinkPurpose.View)))];
        }

        return Page();
    }
}
