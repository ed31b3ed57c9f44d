using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Server.Features.Availability;
using Rendezvous.Server.Features.Bookings;
using Rendezvous.Server.Features.SelfService;
using Rendezvous.Server.Features.Web;
using Rendezvous.Server.Infrastructure;
using Rendezvous.Integrations.Localization;
using static Rendezvous.Integrations.Localization.Texts;

namespace Rendezvous.Server.Pages.Book;

/// <summary>
/// The booking form for a chosen time (or, for a package, one time per session): name, email, phone, notes, guests and the
/// page's own questions. Booking goes through <see cref="BookingService"/> exactly as the API does; a time someone else
/// took in the meantime sends the visitor back to the times with a message.
/// No antiforgery token: the form acts for nobody signed in (anyone may post the same booking to the API), and inside
/// another site's frame the token's same-site cookie is not sent, which would refuse every embedded booking.
/// </summary>
[IgnoreAntiforgeryToken(Order = 1001)]
public sealed class FormModel(RendezvousDbContext db, BookingService bookings, AvailabilityService availability, SelfServiceLinks links, IClock clock,
    Rendezvous.Integrations.Payments.PaymentService payments) : WebPageModel
{
    public const int MaxGuests = 10;

    public PublicPage Target { get; private set; } = null!;

    public DateTimeZone Zone { get; private set; } = DateTimeZone.Utc;

    public IReadOnlyList<Instant> Times { get; private set; } = [];

    public string? Unavailable { get; private set; }

    [BindProperty]
    public List<string> Start { get; set; } = [];

    [BindProperty]
    public string? Tz { get; set; }

    [BindProperty]
    public string? Name { get; set; }

    [BindProperty]
    public string? Email { get; set; }

    [BindProperty]
    public string? Phone { get; set; }

    [BindProperty]
    public string? Notes { get; set; }

    [BindProperty]
    public string? Guests { get; set; }

    [BindProperty]
    public Dictionary<string, string?> Answers { get; set; } = [];

    /// <summary>The round-robin member a routing form chose (their id); the booking goes to them or not at all.</summary>
    [BindProperty]
    public string? Member { get; set; }

    /// <summary>Makes a double submission of this form book once (the API's Idempotency-Key).</summary>
    [BindProperty]
    public string? Key { get; set; }

    public IReadOnlyList<BookingQuestion> Questions => Target.Page.Settings.Questions;

    public async Task<IActionResult> OnGetAsync(string org, string slug, string? tz, [FromQuery(Name = "start")] string[]? start, string? member,
        CancellationToken ct)
    {
        if (await LoadAsync(org, slug, tz, ct) is { } missing)
        {
            return missing;
        }

        Start = [.. start ?? []];
        if (ParseTimes() is not { } times)
        {
            return Go(Target.Path);
        }

        var now = clock.GetCurrentInstant();
        var chosen = Target.Page.Settings.SchedulingOption == SchedulingOption.RoundRobin
            ? Target.TeamMembers.FirstOrDefault(u => u.Id.ToString() == member)?.Id : null;
        Member = chosen?.ToString();
        foreach (var time in times)
        {
            if (await availability.FindSlotAsync(Target.Page, time, now, null, ct, chosen) is null)
            {
                return Go(TakenUrl(time));
            }
        }

        Times = times;
        Tz = Zone.Id;
        Key = Guid.NewGuid().ToString("N");
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string org, string slug, CancellationToken ct)
    {
        if (await LoadAsync(org, slug, Tz, ct) is { } missing)
        {
            return missing;
        }

        if (ParseTimes() is not { } times)
        {
            return Go(Target.Path);
        }

        Times = times;
        var answers = new Dictionary<string, string?>();
        if (!string.IsNullOrWhiteSpace(Notes))
        {
            answers["notes"] = Notes.Trim();
        }

        var guests = ParseGuests();
        if (guests.Count > 0)
        {
            answers["guests"] = string.Join(", ", guests);
        }

        foreach (var question in Questions)
        {
            if (Answers.TryGetValue(question.Id, out var answer) && !string.IsNullOrWhiteSpace(answer))
            {
                answers[question.Id] = answer.Trim();
            }
        }

        var request = new CreateBookingRequest(
            times.Count == 1 ? ApiFormat.Format(times[0]) : null,
            times.Count > 1 ? [.. times.Select(t => ApiFormat.Format(t))] : null,
            new CustomerRequest(Name, Email, string.IsNullOrWhiteSpace(Phone) ? null : Phone.Trim(), Zone.Id, Languages.Current),
            answers, null) { MemberId = string.IsNullOrEmpty(Member) ? null : Member };
        if (Errors.Any)
        {
            // The guests are the form's own field; report them with the other mistakes the service would find.
            CheckLikeTheService();
            return Page();
        }

        var outcome = await bookings.CreateAsync(Target.Page.Slug, request, string.IsNullOrEmpty(Key) ? null : Key, ct);
        if (outcome.IsSuccess)
        {
            var id = new BookingId(Guid.Parse(outcome.Value.Response.Id));
            // A paid page: straight on to PayPal when the order could be made; the confirmation page offers it otherwise.
            // In a frame the visitor pays from the confirmation page instead, in a tab of its own (PayPal is not framed).
            if (outcome.Value.Response.Payment is not null && !Target.IsEmbedded
                && await payments.EnsureOrderAsync(id, ct) is { Status: Domain.Bookings.BookingStatus.AwaitingPayment, Payment.ApproveUrl: { } approve }
                && Uri.TryCreate(approve, UriKind.Absolute, out var approveUri) && approveUri.Scheme == Uri.UriSchemeHttps)
            {
                return Redirect(approve);
            }

            return Go($"{Target.Path}/booked/{links.CreateToken(id, LinkPurpose.View)}");
        }

        var error = outcome.Error!;
        switch (error.Kind, error.Code)
        {
            case (ErrorKind.Conflict, "slot_unavailable" or "slot_taken"):
                return Go(TakenUrl(times[0]));
            case (ErrorKind.Conflict, "page_unavailable"):
                Unavailable = error.Message;
                return Page();
            case (ErrorKind.Validation, _):
                Errors.Add(error, FieldOf);
                return Page();
            default:
                Unavailable = error.Message;
                return Page();
        }
    }

    private async Task<IActionResult?> LoadAsync(string org, string slug, string? tz, CancellationToken ct)
    {
        var target = await PublicPage.FindAsync(db, org, slug, ct);
        if (target is null)
        {
            return Missing(T("Booking page not found"), T("There is no booking page at this address. Please check the link you were given."));
        }

        Target = await EmbeddedAsync(target, ct);
        Zone = VisitorZone(tz, target.Page.Settings.TimeZone);
        ViewData["Title"] = T("Your details · ") + target.Page.Title;
        ViewData["Brand"] = target.Organization.Name;
        ViewData["BrandHref"] = target.Path;
        Errors.Labels["name"] = T("Your name");
        Errors.Labels["email"] = T("Email");
        Errors.Labels["phone"] = T("Phone");
        Errors.Labels["guests"] = T("Guests");
        foreach (var question in target.Page.Settings.Questions)
        {
            Errors.Labels[$"answers.{question.Id}"] = question.Label;
        }

        return null;
    }

    /// <summary>The chosen times, when they are well formed and as many as the page books at once; otherwise null.</summary>
    private List<Instant>? ParseTimes()
    {
        var times = new List<Instant>();
        foreach (var text in Start)
        {
            if (!ApiFormat.TryParseInstant(text, out var t))
            {
                return null;
            }

            times.Add(t);
        }

        var wanted = Target.Page.Settings.SchedulingOption == SchedulingOption.SessionPackage ? Target.Page.Settings.SessionCount : 1;
        times = [.. times.Distinct().Order()];
        return times.Count == wanted ? times : null;
    }

    private List<string> ParseGuests()
    {
        var result = new List<string>();
        var parts = (Guests ?? "").Split([',', ';', '\n', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var part in parts)
        {
            if (!ApiFormat.TryNormalizeEmail(part, out var email))
            {
                Errors.Add("guests", T("\"{0}\" is not an email address; separate guests' addresses with commas", part));
            }
            else if (!result.Contains(email))
            {
                result.Add(email);
            }
        }

        if (result.Count > MaxGuests)
        {
            Errors.Add("guests", T("at most {0} guests", MaxGuests));
        }

        return result;
    }

    /// <summary>The service's own checks of the person's details, so one answer lists every mistake.</summary>
    private void CheckLikeTheService()
    {
        if (!ApiFormat.TryText(Name, 200, out _))
        {
            Errors.Add("name", "is required (1-200 characters)");
        }

        if (!ApiFormat.TryNormalizeEmail(Email, out _))
        {
            Errors.Add("email", "must be a valid email address");
        }

        if (Phone is { Length: > 40 })
        {
            Errors.Add("phone", "must be at most 40 characters");
        }

        foreach (var question in Questions.Where(q => q.Required))
        {
            if (!Answers.TryGetValue(question.Id, out var answer) || string.IsNullOrWhiteSpace(answer))
            {
                Errors.Add($"answers.{question.Id}", "is required");
            }
        }
    }

    private string TakenUrl(Instant time) =>
        WithQuery(Target.Path, [new("tz", Zone.Id), new("date", WebFormat.Iso(time.InZone(Zone).Date)), new("taken", "1")]);

    /// <summary>The form field a domain error names.</summary>
    public static string FieldOf(string field) => field switch
    {
        "customer.name" => "name",
        "customer.email" => "email",
        "customer.phone" => "phone",
        "customer" => "name",
        _ when field.StartsWith("answers.", StringComparison.Ordinal) => field,
        _ => field,
    };
}
