using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.Automations;

/// <summary>
/// Automations as the API and the staff screen manage them. Administrators manage every rule of the organization;
/// other users manage only the rules of booking pages they own (organization-wide rules are administrators' alone). A rule
/// the caller may not manage is not found, as another organization's is.
/// </summary>
public sealed class AutomationService(RendezvousDbContext db, AutomationActions actions, IClock clock)
{
    public const int MaxRuns = 200;

    public async Task<List<AutomationRule>> ListAsync(CurrentUser me, CancellationToken ct)
    {
        var all = await AutomationStore.ListAsync(db, me.OrganizationId, ct);
        if (me.IsAdministrator)
        {
            return all;
        }

        var mine = await OwnPagesAsync(me, ct);
        return [.. all.Where(r => r.BookingPageId is { } p && mine.Contains(p))];
    }

    public async Task<Result<AutomationRule>> FindAsync(CurrentUser me, string id, CancellationToken ct)
    {
        if (!Guid.TryParse(id, out var g) || await AutomationStore.FindAsync(db, me.OrganizationId, g, ct) is not { } rule
            || !await MayManageAsync(me, rule.BookingPageId, ct))
        {
            return DomainError.NotFound("Automation");
        }

        return rule;
    }

    public async Task<Result<AutomationRule>> CreateAsync(CurrentUser me, AutomationRequest request, CancellationToken ct)
    {
        var valid = await ValidateAsync(me, request, ct);
        if (!valid.IsSuccess)
        {
            return valid.Error!;
        }

        var v = valid.Value;
        var now = clock.GetCurrentInstant();
        var rule = new AutomationRule(Guid.CreateVersion7(), me.OrganizationId, PageOf(v), v.Name, v.Enabled, v.Trigger, v.OffsetMinutes, v.Filters, v.Action,
            now, now);
        await AutomationStore.InsertAsync(db, rule, me.Id, ct);
        if (rule.Enabled)
        {
            await AutomationPlanner.PlanExistingAsync(db, rule, now, ct);
        }

        return rule;
    }

    public async Task<Result<AutomationRule>> UpdateAsync(CurrentUser me, string id, AutomationRequest request, CancellationToken ct)
    {
        var found = await FindAsync(me, id, ct);
        if (!found.IsSuccess)
        {
            return found;
        }

        var valid = await ValidateAsync(me, request, ct);
        if (!valid.IsSuccess)
        {
            return valid.Error!;
        }

        var v = valid.Value;
        var now = clock.GetCurrentInstant();
        var rule = found.Value with
        {
            BookingPageId = PageOf(v), Name = v.Name, Enabled = v.Enabled, Trigger = v.Trigger, OffsetMinutes = v.OffsetMinutes, Filters = v.Filters,
            Action = v.Action, UpdatedAt = now,
        };
        await AutomationStore.UpdateAsync(db, rule, ct);
        if (rule.Enabled)
        {
            await AutomationPlanner.PlanExistingAsync(db, rule, now, ct);
        }

        return rule;
    }

    /// <summary>Switches a rule on or off (a switched-off rule's pending runs are skipped when they come due).</summary>
    public async Task<Result<AutomationRule>> SetEnabledAsync(CurrentUser me, string id, bool enabled, CancellationToken ct)
    {
        var found = await FindAsync(me, id, ct);
        if (!found.IsSuccess)
        {
            return found;
        }

        var now = clock.GetCurrentInstant();
        var rule = found.Value with { Enabled = enabled, UpdatedAt = now };
        await AutomationStore.UpdateAsync(db, rule, ct);
        if (enabled)
        {
            await AutomationPlanner.PlanExistingAsync(db, rule, now, ct);
        }

        return rule;
    }

    public async Task<Result> DeleteAsync(CurrentUser me, string id, CancellationToken ct)
    {
        var found = await FindAsync(me, id, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        await AutomationStore.DeleteAsync(db, found.Value, ct);
        return Result.Success;
    }

    public async Task<Result<List<AutomationRun>>> RunsAsync(CurrentUser me, string id, int? limit, CancellationToken ct)
    {
        var found = await FindAsync(me, id, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        if (limit is < 1 or > MaxRuns)
        {
            return DomainError.Validation("limit", $"must be between 1 and {MaxRuns}");
        }

        return await AutomationStore.RunsAsync(db, found.Value.Id, limit ?? 50, ct);
    }

    /// <summary>
    /// Sends the rule's action to the caller only, for a sample booking: the booking named, or the latest booking the rule
    /// applies to (on its page, or anywhere in the organization).
    /// </summary>
    public async Task<Result<string>> SampleAsync(CurrentUser me, string id, string? bookingId, CancellationToken ct)
    {
        var found = await FindAsync(me, id, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        var rule = found.Value;
        var pageId = rule.BookingPageId;
        Booking? booking;
        if (bookingId is not null)
        {
            booking = Guid.TryParse(bookingId, out var b)
                ? await db.Bookings.AsNoTracking().FirstOrDefaultAsync(x => x.Id == new BookingId(b) && (pageId == null || x.BookingPageId == pageId), ct)
                : null;
            if (booking is null)
            {
                return DomainError.Validation("bookingId", "must be a booking the rule applies to");
            }
        }
        else
        {
            booking = await db.Bookings.AsNoTracking().Where(x => pageId == null || x.BookingPageId == pageId)
                .OrderByDescending(x => x.CreatedAt).FirstOrDefaultAsync(ct);
            if (booking is null)
            {
                return DomainError.Conflict("no_booking", "There is no booking to use as the sample yet: make one on the page first.");
            }
        }

        var user = await db.Users.AsNoTracking().FirstAsync(u => u.Id == me.Id, ct);
        return await actions.SampleAsync(rule, booking, user.Email, ct);
    }

    private static BookingPageId? PageOf(AutomationValidation.Valid v) => v.BookingPageId is { } p ? new BookingPageId(Guid.Parse(p)) : null;

    private async Task<Result<AutomationValidation.Valid>> ValidateAsync(CurrentUser me, AutomationRequest request, CancellationToken ct)
    {
        var valid = AutomationValidation.Validate(request);
        if (!valid.IsSuccess)
        {
            return valid;
        }

        var v = valid.Value;
        var errors = new List<FieldError>();
        if (v.BookingPageId is { } p && !await db.BookingPages.AnyAsync(x => x.Id == new BookingPageId(Guid.Parse(p)), ct))
        {
            errors.Add(new FieldError("bookingPageId", "must be a booking page of this organization"));
        }

        if (v.Action.Kind == AutomationActionKinds.Webhook
            && !await db.WebhookSubscriptions.AnyAsync(s => s.Id == Guid.Parse(v.Action.WebhookId!), ct))
        {
            errors.Add(new FieldError("action.webhookId", "must name one of the organization's webhooks"));
        }

        if (errors.Count > 0)
        {
            return DomainError.Validation(errors);
        }

        if (!await MayManageAsync(me, PageOf(v), ct))
        {
            return new DomainError(ErrorKind.Forbidden, "not_yours",
                v.BookingPageId is null ? "Only administrators manage the organization's automations." : "Members manage the automations of their own booking pages only.");
        }

        return v;
    }

    private async Task<bool> MayManageAsync(CurrentUser me, BookingPageId? page, CancellationToken ct) =>
        me.IsAdministrator || (page is { } p && await db.BookingPages.AnyAsync(x => x.Id == p && x.OwnerId == me.Id, ct));

    private async Task<HashSet<BookingPageId>> OwnPagesAsync(CurrentUser me, CancellationToken ct) =>
        [.. await db.BookingPages.Where(p => p.OwnerId == me.Id).Select(p => p.Id).ToListAsync(ct)];
}
