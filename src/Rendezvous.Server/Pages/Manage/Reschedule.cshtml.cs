using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Server.Features.Availability;
using Rendezvous.Server.Features.Bookings;
using Rendezvous.Server.Features.SelfService;
using Rendezvous.Server.Features.Web;
using Rendezvous.Server.Infrastructure;
using static Rendezvous.Integrations.Localization.Texts;

namespace Rendezvous.Server.Pages.Manage;

/// <summary>
/// Reschedule behind a reschedule link: the same month-and-day picker as the booking page, from live availability with
/// the appointment's own time not counting against it; then a confirmation step; then the move, within policy.
/// </summary>
public sealed class RescheduleModel(RendezvousDbContext db, SelfServiceService selfService, SlotPickerBuilder picker,
    AvailabilityService availability, IClock clock) : ManagePageModel(db, selfService)
{
    public SlotPickerModel? Picker { get; private set; }

    public DateTimeZone Zone { get; private set; } = DateTimeZone.Utc;

    /// <summary>The time to confirm, when one was picked.</summary>
    public Instant? Chosen { get; private set; }

    public bool Done { get; private set; }

    public string? Problem { get; private set; }

    public bool Taken { get; private set; }

    /// <summary>The appointment types the booking may move into, its own first (seed 003); a choice shows when there are several.</summary>
    public IReadOnlyList<Domain.BookingPages.BookingPage> Types { get; private set; } = [];

    /// <summary>The chosen type's page (the booking's own unless <see cref="Type"/> names another).</summary>
    public Domain.BookingPages.BookingPage TypePage { get; private set; } = null!;

    /// <summary>The chosen type's id when it is not the booking's own; null otherwise.</summary>
    public string? Type { get; private set; }

    private UserId? _member;

    private async Task ChooseTypeAsync(string? type, CancellationToken ct)
    {
        Types = await SelfService.TypesAsync(Target, ct);
        var source = await SelfService.SlotSourceAsync(Target, Types.Any(p => p.Id.ToString() == type) ? type : null, ct);
        (TypePage, _member) = source.Value;
        Type = TypePage.Id == Target.Booking.BookingPageId ? null : TypePage.Id.ToString();
    }

    public async Task<IActionResult> OnGetAsync(string token, string? tz, string? month, string? date, string? from, string? start, string? type,
        CancellationToken ct)
    {
        if (await OpenAsync(token, LinkPurpose.Reschedule, ct) is { } missing)
        {
            return missing;
        }

        await ChooseTypeAsync(type, ct);

        Zone = VisitorZone(tz, CustomerZone);
        ViewData["Title"] = View.CanReschedule ? (IsStaff ? T("Reschedule this booking") : T("Reschedule your appointment")) : T("This appointment cannot be rescheduled online");
        if (!View.CanReschedule)
        {
            return Page();
        }

        if (await availability.WhyUnavailableAsync(TypePage, ct) is { } why)
        {
            Problem = why.Message;
            return Page();
        }

        if (ApiFormat.TryParseInstant(start, out var chosen)
            && await availability.FindSlotAsync(TypePage, chosen, clock.GetCurrentInstant(), Target.Booking.Id, ct, _member) is not null)
        {
            Chosen = chosen;
            ViewData["Title"] = IsStaff ? T("Move this booking?") : T("Move your appointment?");
            return Page();
        }

        Taken = start is not null;
        await BuildPickerAsync(ParseMonth(month), ParseDate(date) ?? ParseDate(from) ?? (Taken && ApiFormat.TryParseInstant(start, out var t) ? t.InZone(Zone).Date : null), ct);
        return Page();
    }

    /// <summary>The optional reason typed on the confirmation step (kept when the step is shown again).</summary>
    public string? Reason { get; private set; }

    public async Task<IActionResult> OnPostAsync(string token, [FromForm] string? start, [FromForm] string? tz, [FromForm] string? reason,
        [FromForm] string? type, CancellationToken ct)
    {
        if (await OpenAsync(token, LinkPurpose.Reschedule, ct) is { } missing)
        {
            return missing;
        }

        await ChooseTypeAsync(type, ct);

        Zone = VisitorZone(tz, CustomerZone);
        Reason = reason;
        var result = await SelfService.RescheduleAsync(Target, start, reason, ct, Type);
        if (result.IsSuccess)
        {
            // Moved into another appointment type: the confirmation names the new one, not the one the link was opened on.
            Refresh(Target with { Booking = result.Value, Page = result.Value.BookingPageId == TypePage.Id ? TypePage : Target.Page });
            Done = true;
            ViewData["Title"] = IsStaff ? T("The booking is moved") : T("Your appointment is moved");
            return Page();
        }

        var error = result.Error!;
        Response.StatusCode = Problems.StatusOf(error.Kind);
        ViewData["Title"] = T("The appointment was not moved");
        if (error.Kind == ErrorKind.Conflict && error.Code is "slot_unavailable" or "slot_taken")
        {
            Taken = true;
            ViewData["Title"] = T("Reschedule your appointment");
            await BuildPickerAsync(null, ApiFormat.TryParseInstant(start, out var s) ? s.InZone(Zone).Date : null, ct);
            return Page();
        }

        Problem = SelfServiceEndpoints.WithContact(error, Target).Message;
        return Page();
    }

    private async Task BuildPickerAsync(LocalDate? month, LocalDate? date, CancellationToken ct)
    {
        var path = $"/manage/{Token}/reschedule";
        var zone = Zone;
        var type = Type;
        Picker = await picker.BuildAsync(TypePage, zone, month, date, Target.Booking.Id,
            new SlotPickerBuilder.Links(
                (m, d) => WithQuery(path, [new("tz", zone.Id), new("month", MonthParam(m)), new("date", d is { } x ? WebFormat.Iso(x) : null), new("type", type)]),
                s => WithQuery(path, [new("tz", zone.Id), new("start", ApiFormat.Format(s.Start)), new("type", type)])),
            path, [new("type", type ?? "")], ct, _member);
        Picker = Picker with { Lead = T("Choose a new time."), SlotVerb = "Move to" };
    }
}
