using Microsoft.AspNetCore.Mvc;
using NodaTime;
using NodaTime.Text;
using NodaTime.TimeZones;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Server.Features.Bookings;
using Rendezvous.Server.Features.Reminders;
using Rendezvous.Server.Features.Web;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Pages.App;

/// <summary>
/// A user reschedules a booking for the customer: pick a free time from the page's availability (or type another time,
/// since users may leave the page's hours), then edit the booking's reminders, its public notes and the email the
/// customer gets about the change before it is sent (seed 003).
/// </summary>
public sealed class RescheduleModel(RendezvousDbContext db, BookingDetailsLoader loader, BookingService bookings, SlotPickerBuilder picker)
    : StaffPageModel
{
    /// <summary>A typed start may fall in a DST gap (moved forward past it) or an overlap (the earlier one), as on a clock.</summary>
    private static readonly ZoneLocalMappingResolver TypedTimeResolver = Resolvers.LenientResolver;

    public BookingDetails Details { get; private set; } = null!;

    public SlotPickerModel? Picker { get; private set; }

    public DateTimeZone Zone { get; private set; } = DateTimeZone.Utc;

    public Instant? Chosen { get; private set; }

    public IReadOnlyDictionary<string, string> Placeholders => Rendezvous.Integrations.Notifications.Templates.Placeholders.Descriptions;

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    /// <summary>The appointment type (booking page id) to move into (seed 003); unset or the booking's own keeps its type.</summary>
    [BindProperty(SupportsGet = true)]
    public string? Type { get; set; }

    /// <summary>The types the booking may switch to, its own first; a choice is offered when there is more than one.</summary>
    public IReadOnlyList<BookingPage> Types { get; private set; } = [];

    /// <summary>The chosen type's page (the booking's own unless <see cref="Type"/> names another of <see cref="Types"/>).</summary>
    public BookingPage TypePage { get; private set; } = null!;

    /// <summary>How long the meeting will be: the chosen type's duration.</summary>
    public Duration NewDuration => TypePage.Id == Details.Booking.BookingPageId ? Details.Booking.End - Details.Booking.Start : TypePage.Settings.Duration;

    [BindProperty]
    public string? Start { get; set; }

    [BindProperty]
    public string? Tz { get; set; }

    [BindProperty]
    public string? Reason { get; set; }

    [BindProperty]
    public string? PublicNotes { get; set; }

    [BindProperty]
    public bool ChangeReminders { get; set; }

    [BindProperty]
    public int?[] Reminders { get; set; } = new int?[BookingPageSettings.MaxReminders];

    [BindProperty]
    public int? FollowUp { get; set; }

    [BindProperty]
    public bool SendEmail { get; set; } = true;

    [BindProperty]
    public string? Subject { get; set; }

    [BindProperty]
    public string? Message { get; set; }

    public async Task<IActionResult> OnGetAsync(string id, string? tz, string? month, string? date, string? start, string? on, string? at,
        CancellationToken ct)
    {
        if (await LoadAsync(id, tz, ct) is { } missing)
        {
            return missing;
        }

        if (ApiFormat.TryParseInstant(start, out var chosen) || TryTyped(on, at, out chosen))
        {
            Chosen = chosen;
            Start = ApiFormat.Format(chosen);
            PublicNotes = Details.Booking.PublicNotes;
            var (reminders, followUp) = await ReminderPlanner.PlanOfAsync(db, Details.Booking, ct);
            for (var i = 0; i < Reminders.Length; i++)
            {
                Reminders[i] = i < reminders.Count ? (int)reminders[i].Offset.TotalMinutes : null;
            }

            FollowUp = followUp is null ? null : (int)followUp.Offset.TotalMinutes;
            return Page();
        }

        if (on is not null || at is not null)
        {
            Errors.Add("typed", "Enter a date and a time, such as 2027-03-15 and 14:30.");
        }

        await BuildPickerAsync(id, ParseMonth(month), ParseDate(date), ct);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string id, CancellationToken ct)
    {
        if (await LoadAsync(id, Tz, ct) is { } missing)
        {
            return missing;
        }

        Chosen = ApiFormat.TryParseInstant(Start, out var chosen) ? chosen : null;
        var request = new RescheduleRequest(Start, Clean(Reason), PublicNotes ?? "",
            !SendEmail || !string.IsNullOrWhiteSpace(Subject) || !string.IsNullOrWhiteSpace(Message)
                ? new RescheduleEmailRequest(SendEmail, Subject, Message)
                : null);
        var used = new List<int>();
        if (ChangeReminders)
        {
            var specs = new List<ReminderSpec>();
            for (var i = 0; i < Reminders.Length; i++)
            {
                if (Reminders[i] is { } minutes)
                {
                    specs.Add(new ReminderSpec(minutes, "email"));
                    used.Add(i);
                }
            }

            request = request with { Reminders = specs, FollowUp = FollowUp is { } f ? new ReminderSpec(f, "email") : null };
        }

        string Field(string field)
        {
            if (field.StartsWith("reminders[", StringComparison.Ordinal) && int.TryParse(field.AsSpan(10, field.IndexOf(']', StringComparison.Ordinal) - 10), out var n))
            {
                return n < used.Count ? $"reminder{used[n]}" : "reminders";
            }

            return field switch
            {
                "followUp.offsetMinutes" => "followUp",
                "email.subject" => "subject",
                "email.message" => "message",
                _ => field,
            };
        }

        var prepared = BookingsEndpoints.PrepareReschedule(request);
        if (!prepared.IsSuccess)
        {
            Errors.Add(prepared.Error!, Field);
            return Page();
        }

        var result = await bookings.RescheduleAsync(id, Start, request.Reason, Me, ct, prepared.Value.Plan, prepared.Value.Extras,
            TypePage.Id == Details.Booking.BookingPageId ? null : TypePage.Id.ToString());
        if (!result.IsSuccess)
        {
            var error = result.Error!;
            if (error.Kind == ErrorKind.Validation)
            {
                Errors.Add(error, Field);
            }
            else
            {
                Errors.Add("start", error.Code == "slot_taken"
                    ? "Another booking of a host already holds that time; choose another."
                    : error.Message);
            }

            return Page();
        }

        Flash($"Moved to {WebFormat.When(result.Value.Start, Zone)}. " +
            (SendEmail ? "The customer is told by email." : "The customer was not emailed about this change."));
        var back = LocalOr(ReturnUrl, Details.Path);
        return Go(back);
    }

    private async Task<IActionResult?> LoadAsync(string id, string? tz, CancellationToken ct)
    {
        ViewData["Nav"] = "activity";
        var myZone = await MyZoneAsync(db, ct);
        Zone = TimeZones.Find(tz) ?? myZone;
        var loaded = await loader.LoadAsync(id, Me, Zone, ct);
        if (!loaded.IsSuccess)
        {
            return Missing("Booking not found", "There is no such booking, or it is not one of yours.");
        }

        Details = loaded.Value;
        Details.ReturnUrl = LocalOr(ReturnUrl, Details.Path);
        ViewData["Title"] = "Reschedule · " + Details.Page.Title;
        Errors.Labels["start"] = "The new time";
        Errors.Labels["reason"] = "The reason";
        Errors.Labels["publicNotes"] = "The public notes";
        Errors.Labels["followUp"] = "The follow-up";
        Errors.Labels["subject"] = "The subject";
        Errors.Labels["message"] = "The message";
        for (var i = 0; i < Reminders.Length; i++)
        {
            Errors.Labels[$"reminder{i}"] = $"Reminder {i + 1}";
        }

        Types = await bookings.RescheduleTypesAsync(Details.Booking, ct);
        TypePage = Types.FirstOrDefault(p => p.Id.ToString() == Type) ?? Details.Page;
        Type = TypePage.Id == Details.Booking.BookingPageId ? null : TypePage.Id.ToString();
        if (!Details.CanReschedule)
        {
            FlashError(new DomainError(ErrorKind.Conflict, "illegal_transition", $"A booking that is {Details.Booking.DetailedStatus} cannot be rescheduled."));
            return Go(Details.ReturnUrl);
        }

        return null;
    }

    private async Task BuildPickerAsync(string id, LocalDate? month, LocalDate? date, CancellationToken ct)
    {
        var path = $"/app/bookings/{id}/reschedule";
        var zone = Zone;
        var back = ReturnUrl;
        var type = Type;
        Picker = await picker.BuildAsync(TypePage, zone, month, date ?? Details.Booking.Start.InZone(zone).Date, Details.Booking.Id,
            new SlotPickerBuilder.Links(
                (m, d) => WithQuery(path, [new("tz", zone.Id), new("month", MonthParam(m)), new("date", d is { } x ? WebFormat.Iso(x) : null), new("returnUrl", back), new("type", type)]),
                s => WithQuery(path, [new("tz", zone.Id), new("start", ApiFormat.Format(s.Start)), new("returnUrl", back), new("type", type)])),
            path, [new("returnUrl", back ?? ""), new("type", type ?? "")], ct, BookingService.MemberOf(TypePage, Details.Booking));
        Picker = Picker with { Lead = "Free times on this booking page (the booking's own time counts as free).", SlotVerb = "Move to" };
    }

    private bool TryTyped(string? on, string? at, out Instant start)
    {
        start = default;
        var date = ParseDate(on);
        var time = at is null ? null : LocalTimePattern.CreateWithInvariantCulture("HH:mm").Parse(at) is { Success: true } t ? t.Value : (LocalTime?)null;
        if (date is null || time is null)
        {
            return false;
        }

        start = (date.Value + time.Value).InZone(Zone, TypedTimeResolver).ToInstant();
        return true;
    }

    private static string? Clean(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
