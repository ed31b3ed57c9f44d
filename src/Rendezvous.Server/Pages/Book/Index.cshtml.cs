using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain.Availability;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Server.Features.Availability;
using Rendezvous.Server.Features.Web;
using Rendezvous.Server.Infrastructure;
using static Rendezvous.Integrations.Localization.Texts;

namespace Rendezvous.Server.Pages.Book;

/// <summary>The public booking page at /{organization}/{page}: what the meeting is, and a month of free times in the visitor's zone.</summary>
public sealed class IndexModel(RendezvousDbContext db, SlotPickerBuilder picker, AvailabilityService availability) : WebPageModel
{
    public PublicPage Target { get; private set; } = null!;

    public SlotPickerModel? Picker { get; private set; }

    public string? Unavailable { get; private set; }

    public bool Taken { get; private set; }

    /// <summary>Sessions chosen so far (session packages).</summary>
    public IReadOnlyList<Instant> Picked { get; private set; } = [];

    public DateTimeZone Zone { get; private set; } = DateTimeZone.Utc;

    public bool IsPackage => Target.Page.Settings.SchedulingOption == SchedulingOption.SessionPackage && Target.Page.Settings.SessionCount > 1;

    public string ContinueHref => WithQuery(Target.Path + "/book", [new("tz", Zone.Id), .. Picked.Select(p => new KeyValuePair<string, string?>("start", ApiFormat.Format(p)))]);

    /// <summary>The round-robin member a routing form chose, whose times alone are offered; null otherwise.</summary>
    public Domain.Organizations.User? Member { get; private set; }

    public async Task<IActionResult> OnGetAsync(string org, string slug, string? tz, string? month, string? date, string? from,
        string[]? picked, string? taken, string? member, CancellationToken ct)
    {
        var target = await PublicPage.FindAsync(db, org, slug, ct);
        if (target is null)
        {
            return Missing(T("Booking page not found"), T("There is no booking page at this address. Please check the link you were given."));
        }

        target = await EmbeddedAsync(target, ct);
        Target = target;
        Member = member is null ? null : target.TeamMembers.FirstOrDefault(u => u.Id.ToString() == member
            && target.Page.Settings.SchedulingOption == SchedulingOption.RoundRobin);
        var memberParam = new KeyValuePair<string, string?>("member", Member?.Id.ToString());
        Zone = VisitorZone(tz, target.Page.Settings.TimeZone);
        Taken = taken is not null;
        ViewData["Title"] = target.Page.Title;
        ViewData["Brand"] = target.Organization.Name;
        ViewData["BrandHref"] = target.Path;

        if (await availability.WhyUnavailableAsync(target.Page, ct) is { } why)
        {
            Unavailable = why.Message;
            return Page();
        }

        var chosen = (picked ?? []).Select(p => ApiFormat.TryParseInstant(p, out var i) ? i : (Instant?)null).OfType<Instant>().Distinct().Order().ToList();
        Picked = IsPackage ? chosen.Take(target.Page.Settings.SessionCount).ToList() : [];
        var zone = Zone;
        string Navigate(LocalDate m, LocalDate? d) => WithQuery(target.Path,
            [new("tz", zone.Id), new("month", MonthParam(m)), new("date", d is { } x ? WebFormat.Iso(x) : null), memberParam, .. PickedParams(Picked)]);
        string Choose(Slot s)
        {
            if (!IsPackage)
            {
                return WithQuery(target.Path + "/book", [new("tz", zone.Id), new("start", ApiFormat.Format(s.Start)), memberParam]);
            }

            var toggled = Picked.Contains(s.Start) ? Picked.Where(p => p != s.Start).ToList() : [.. Picked, s.Start];
            var day = s.Start.InZone(zone).Date;
            return WithQuery(target.Path, [new("tz", zone.Id), new("date", WebFormat.Iso(day)), .. PickedParams(toggled)]) + "#day";
        }

        var selectedDate = ParseDate(date) ?? ParseDate(from);
        Picker = await picker.BuildAsync(target.Page, zone, ParseMonth(month), selectedDate, null,
            new SlotPickerBuilder.Links(Navigate, Choose, s => Picked.Contains(s.Start)), target.Path,
            [new("month", month ?? ""), new("date", date ?? ""), .. Member is null ? [] : new[] { new KeyValuePair<string, string>("member", Member.Id.ToString()) },
                .. PickedParams(Picked).Select(p => new KeyValuePair<string, string>(p.Key, p.Value!))], ct, Member?.Id);
        Picker = Picker with
        {
            Lead = IsPackage ? T("Choose {0} times, one for each session.", target.Page.Settings.SessionCount) : T("Choose a time."),
            SlotVerb = IsPackage ? "Choose" : "Book",
        };
        return Page();
    }

    private static IEnumerable<KeyValuePair<string, string?>> PickedParams(IEnumerable<Instant> picked) =>
        picked.Select(p => new KeyValuePair<string, string?>("picked", ApiFormat.Format(p)));
}
