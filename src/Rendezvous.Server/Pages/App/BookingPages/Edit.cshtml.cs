using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Organizations;
using Rendezvous.Server.Features.BookingPages;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App.BookingPages;

/// <summary>
/// Create or edit a booking page with every setting: hours, overrides, buffers, notice, window, caps, interval, the
/// scheduling option (seats, sessions, panel members), approval, policies, reminders and follow-up, custom questions.
/// The checks are the API's; their messages are shown next to the fields.
/// </summary>
public sealed class EditModel(RendezvousDbContext db, BookingPageService pages) : StaffPageModel
{
    /// <summary>Blank rows offered for new date overrides and questions (the script adds more).</summary>
    public const int SpareRows = 2;

    [BindProperty]
    public BookingPageForm Form { get; set; } = new();

    public BookingPage? Existing { get; private set; }

    public IReadOnlyList<User> Users { get; private set; } = [];

    public Organization Organization { get; private set; } = null!;

    public bool IsNew => Existing is null;

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken ct)
    {
        if (await LoadAsync(id, ct) is { } missing)
        {
            return missing;
        }

        Form = Existing is null ? BookingPageForm.ForNew((await MeAsync(db, ct)).TimeZoneId, Me.Id.ToString()) : BookingPageForm.From(Existing);
        AddSpareRows();
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string id, CancellationToken ct)
    {
        if (await LoadAsync(id, ct) is { } missing)
        {
            return missing;
        }

        BookingPageForm.Label(Errors);
        var (request, fieldOf) = Form.ToRequest(Errors);
        if (!Me.IsAdministrator)
        {
            request = request with { OwnerId = Existing?.OwnerId.ToString() ?? Me.Id.ToString() };
        }

        if (Errors.Any)
        {
            // Checked even when some hours could not be read, so every mistake is reported at once.
            var checkedRequest = await BookingPagesEndpoints.CheckAsync(request, Existing, Me, db, ct);
            if (!checkedRequest.IsSuccess)
            {
                Show(checkedRequest.Error!, fieldOf);
            }

            AddSpareRows();
            return Page();
        }

        var saved = Existing is null ? await pages.CreateAsync(request, Me, ct) : await pages.UpdateAsync(Existing, request, Me, ct);
        if (!saved.IsSuccess)
        {
            Show(saved.Error!, fieldOf);
            AddSpareRows();
            return Page();
        }

        if (Existing is null)
        {
            Flash($"The booking page {saved.Value.Title} is created. Its public address is /{Organization.Slug}/{saved.Value.Slug}.");
            return Go($"/app/pages/{saved.Value.Id}");
        }

        Flash("Saved. New bookings follow these settings; existing bookings keep the policies they were made with.");
        return Go($"/app/pages/{Existing.Id}");
    }

    /// <summary>The API's answer as messages next to the fields they are about.</summary>
    private void Show(DomainError error, Func<string, string> fieldOf)
    {
        if (error.Kind == ErrorKind.Conflict && error.Code == "slug_taken")
        {
            Errors.Add("slug", "is used by another booking page; choose another");
        }
        else if (error.Kind == ErrorKind.Validation)
        {
            foreach (var f in error.Fields)
            {
                var field = fieldOf(f.Field);
                Errors.Add(BookingPageForm.PlaceDayMessage(field, f.Message), f.Message);
            }
        }
        else
        {
            Errors.Add("ownerId", error.Message);
        }
    }

    private async Task<IActionResult?> LoadAsync(string id, CancellationToken ct)
    {
        ViewData["Nav"] = "pages";
        Organization = await db.Organizations.AsNoTracking().FirstAsync(o => o.Id == Me.OrganizationId, ct);
        Users = await db.Users.AsNoTracking().OrderBy(u => u.Name).ToListAsync(ct);
        BookingPageForm.Label(Errors);
        if (id == "new")
        {
            ViewData["Title"] = "New booking page";
            return null;
        }

        Existing = await BookingPagesEndpoints.FindAsync(db, id, ct);
        if (Existing is null || (!Me.IsAdministrator && Existing.OwnerId != Me.Id))
        {
            return Missing("Booking page not found", "There is no such booking page, or it is not yours to edit.");
        }

        ViewData["Title"] = "Edit " + Existing.Title;
        return null;
    }

    private void AddSpareRows()
    {
        while (Form.Overrides.Count(o => string.IsNullOrWhiteSpace(o.Date) && string.IsNullOrWhiteSpace(o.Hours)) < SpareRows)
        {
            Form.Overrides.Add(new OverrideRow());
        }

        while (Form.Questions.Count(q => string.IsNullOrWhiteSpace(q.Id) && string.IsNullOrWhiteSpace(q.Label)) < SpareRows)
        {
            Form.Questions.Add(new QuestionRow());
        }
    }
}
