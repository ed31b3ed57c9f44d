using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Data.Serialization;
using Rendezvous.Domain;
using Rendezvous.Integrations;

namespace Rendezvous.Server.Features.Automations;

/// <summary>A stored rule.</summary>
public sealed record AutomationRule(
    Guid Id, OrganizationId OrganizationId, BookingPageId? BookingPageId, string Name, bool Enabled, string Trigger, int OffsetMinutes,
    AutomationFilters Filters, AutomationAction Action, Instant CreatedAt, Instant UpdatedAt)
{
    public Duration Offset => Duration.FromMinutes(OffsetMinutes);

    public string Description => $"{AutomationTriggers.Describe(Trigger, OffsetMinutes)}: {Action.Describe()}";

    public AutomationResponse ToResponse() => new(
        Id.ToString(), Name, BookingPageId?.ToString(), Enabled, Trigger, OffsetMinutes, Description, Filters, Action,
        ApiFormat.Format(CreatedAt), ApiFormat.Format(UpdatedAt));
}

/// <summary>A stored run.</summary>
public sealed record AutomationRun(
    Guid Id, Guid AutomationId, Guid BookingId, string Trigger, string Status, Instant DueAt, Instant ForStart, int Attempts, string? Result,
    string? LastError, Instant CreatedAt, Instant? FinishedAt)
{
    public AutomationRunResponse ToResponse() => new(
        Id.ToString(), AutomationId.ToString(), BookingId.ToString(), Trigger, Status, ApiFormat.Format(DueAt), Attempts, Result, LastError,
        ApiFormat.Format(CreatedAt), FinishedAt is { } f ? ApiFormat.Format(f) : null);
}

/// <summary>Reads and writes <c>automations</c> and <c>automation_runs</c> (SQL only; they are outside the EF model).</summary>
public static class AutomationStore
{
    private const string Columns = """
        id AS "Id", organization_id AS "OrganizationId", booking_page_id AS "BookingPageId", name AS "Name", enabled AS "Enabled",
        trigger AS "Trigger", offset_minutes AS "OffsetMinutes", filters::text AS "Filters", action::text AS "Action",
        created_at AS "CreatedAt", updated_at AS "UpdatedAt"
        """;

    private const string RunColumns = """
        id AS "Id", automation_id AS "AutomationId", booking_id AS "BookingId", trigger AS "Trigger", status AS "Status", due_at AS "DueAt",
        for_start AS "ForStart", attempts AS "Attempts", result AS "Result", last_error AS "LastError", created_at AS "CreatedAt",
        finished_at AS "FinishedAt"
        """;

    /// <summary>The organization's rules, organization-wide first, then by page and name.</summary>
    public static async Task<List<AutomationRule>> ListAsync(RendezvousDbContext db, OrganizationId org, CancellationToken ct) =>
        [.. (await db.Database.SqlQueryRaw<Row>("SELECT " + Columns + " FROM automations WHERE organization_id = {0} ORDER BY booking_page_id NULLS FIRST, name, id", org.Value)
            .ToListAsync(ct)).Select(r => r.ToRule())];

    /// <summary>The enabled rules that apply to bookings of <paramref name="page"/>: the organization's and the page's own.</summary>
    public static async Task<List<AutomationRule>> ForPageAsync(RendezvousDbContext db, OrganizationId org, BookingPageId page, CancellationToken ct) =>
        [.. (await db.Database.SqlQueryRaw<Row>(
                "SELECT " + Columns + " FROM automations WHERE organization_id = {0} AND enabled AND (booking_page_id IS NULL OR booking_page_id = {1}) ORDER BY id",
                org.Value, page.Value)
            .ToListAsync(ct)).Select(r => r.ToRule())];

    public static async Task<AutomationRule?> FindAsync(RendezvousDbContext db, OrganizationId org, Guid id, CancellationToken ct) =>
        (await db.Database.SqlQueryRaw<Row>("SELECT " + Columns + " FROM automations WHERE organization_id = {0} AND id = {1}", org.Value, id)
            .ToListAsync(ct)).Select(r => r.ToRule()).FirstOrDefault();

    public static async Task InsertAsync(RendezvousDbContext db, AutomationRule rule, UserId? by, CancellationToken ct) =>
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO automations (id, organization_id, booking_page_id, name, enabled, trigger, offset_minutes, filters, action, created_by, created_at, updated_at)
            VALUES ({rule.Id}, {rule.OrganizationId.Value}, {rule.BookingPageId?.Value}, {rule.Name}, {rule.Enabled}, {rule.Trigger}, {rule.OffsetMinutes},
                    {Json(rule.Filters)}::jsonb, {Json(rule.Action)}::jsonb, {by?.Value}, {rule.CreatedAt}, {rule.UpdatedAt})
            """, ct);

    public static async Task UpdateAsync(RendezvousDbContext db, AutomationRule rule, CancellationToken ct) =>
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            UPDATE automations SET booking_page_id = {rule.BookingPageId?.Value}, name = {rule.Name}, enabled = {rule.Enabled}, trigger = {rule.Trigger},
                offset_minutes = {rule.OffsetMinutes}, filters = {Json(rule.Filters)}::jsonb, action = {Json(rule.Action)}::jsonb, updated_at = {rule.UpdatedAt}
            WHERE id = {rule.Id} AND organization_id = {rule.OrganizationId.Value}
            """, ct);

    public static async Task DeleteAsync(RendezvousDbContext db, AutomationRule rule, CancellationToken ct) =>
        await db.Database.ExecuteSqlInterpolatedAsync($"DELETE FROM automations WHERE id = {rule.Id} AND organization_id = {rule.OrganizationId.Value}", ct);

    /// <summary>A rule's most recent runs, newest first.</summary>
    public static Task<List<AutomationRun>> RunsAsync(RendezvousDbContext db, Guid automationId, int limit, CancellationToken ct) =>
        db.Database.SqlQueryRaw<AutomationRun>(
            "SELECT " + RunColumns + " FROM automation_runs WHERE automation_id = {0} ORDER BY created_at DESC, id DESC LIMIT {1}", automationId, limit)
            .ToListAsync(ct);

    /// <summary>A booking's runs, oldest first.</summary>
    public static Task<List<AutomationRun>> RunsOfBookingAsync(RendezvousDbContext db, BookingId bookingId, CancellationToken ct) =>
        db.Database.SqlQueryRaw<AutomationRun>(
            "SELECT " + RunColumns + " FROM automation_runs WHERE booking_id = {0} ORDER BY created_at, id", bookingId.Value)
            .ToListAsync(ct);

    public static Task<List<AutomationRun>> RunAsync(RendezvousDbContext db, Guid runId, CancellationToken ct) =>
        db.Database.SqlQueryRaw<AutomationRun>("SELECT " + RunColumns + " FROM automation_runs WHERE id = {0}", runId).ToListAsync(ct);

    /// <summary>
    /// The Salesforce field rules whose latest finished run for a booking of <paramref name="page"/> failed because Salesforce's
    /// Event has no such field (or the connected user cannot edit it): the rule's name and the field, for the connection's health.
    /// </summary>
    public static async Task<List<(string Rule, string Field)>> MissingSalesforceFieldsAsync(RendezvousDbContext db, OrganizationId org,
        BookingPageId page, CancellationToken ct)
    {
        var latest = await db.Database.SqlQueryRaw<LatestRun>("""
            SELECT DISTINCT ON (r.automation_id) a.name AS "Rule", a.action->>'field' AS "Field", r.status AS "Status", r.result AS "Result"
            FROM automation_runs r
            JOIN automations a ON a.id = r.automation_id
            JOIN bookings b ON b.id = r.booking_id
            WHERE a.organization_id = {0} AND r.organization_id = {0} AND b.booking_page_id = {1} AND a.action->>'kind' = 'salesforceField'
              AND r.status IN ('Succeeded', 'Failed') AND r.finished_at IS NOT NULL
            ORDER BY r.automation_id, r.finished_at DESC, r.id DESC
            """, org.Value, page.Value).ToListAsync(ct);
        return [.. latest.Where(r => r.Status == "Failed" && r.Result?.StartsWith(AutomationActions.MissingSalesforceField, StringComparison.Ordinal) == true)
            .OrderBy(r => r.Rule, StringComparer.Ordinal)
            .Select(r => (r.Rule, r.Field ?? ""))];
    }

    public static string Json<T>(T value) => JsonSerializer.Serialize(value, JsonDefaults.Options);

    private sealed record LatestRun(string Rule, string? Field, string Status, string? Result);

    private sealed record Row(
        Guid Id, Guid OrganizationId, Guid? BookingPageId, string Name, bool Enabled, string Trigger, int OffsetMinutes, string Filters, string Action,
        Instant CreatedAt, Instant UpdatedAt)
    {
        public AutomationRule ToRule() => new(
            Id, new OrganizationId(OrganizationId), BookingPageId is { } p ? new BookingPageId(p) : null, Name, Enabled, Trigger, OffsetMinutes,
            JsonSerializer.Deserialize<AutomationFilters>(Filters, JsonDefaults.Options) ?? new AutomationFilters(),
            JsonSerializer.Deserialize<AutomationAction>(Action, JsonDefaults.Options) ?? new AutomationAction(),
            CreatedAt, UpdatedAt);
    }
}
