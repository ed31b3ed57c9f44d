using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Npgsql;
using Rendezvous.Data;
using Rendezvous.Data.Outbox;
using Rendezvous.Data.Serialization;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Organizations;
using Rendezvous.Integrations;

namespace Rendezvous.Integrations.Crm.Salesforce;

/// <summary>
/// Keeps one Salesforce Event per booking in step with it (seed 002), from the outbox. Every event writes the booking's
/// current state (time, Event status, cancel/reschedule reason, owner) with an upsert by the booking id as external ID, so
/// order and repeats do not matter and nothing is ever duplicated. On first write the customer is matched by email to a
/// Contact, then a Lead, then a Case (a Lead is created when none matches and the page allows it), and the match is kept.
/// Quiet events, unpaid bookings and pages with Activity Events off send nothing. Failures that may pass or that need
/// someone to fix the setup throw, so the outbox retries with backoff; a record Salesforce refuses for good is noted on
/// the booking's CRM record and not retried.
/// </summary>
public sealed partial class SalesforceOutboxHandler(
    IServiceScopeFactory scopes, SalesforceClient salesforce, NpgsqlDataSource dataSource, IClock clock, ILogger<SalesforceOutboxHandler> logger)
    : IOutboxHandler
{
    public string Name => "salesforce";

    public bool Handles(string type) => type.StartsWith("booking.", StringComparison.Ordinal);

    public async Task HandleAsync(OutboxEnvelope message, CancellationToken cancellationToken)
    {
        var e = CrmEvent.Parse(message.Type, message.Payload);
        // Quiet moves are not told to integrations (seed 000); unpaid bookings are not bookings yet.
        if (e.Quiet || e.Type is BookingEvent.AwaitingPayment or BookingEvent.PaymentExpired)
        {
            return;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
        if (!await CrmLocks.MayHaveConnectionAsync(db, CrmConnection.Salesforce, e.BookingId, cancellationToken))
        {
            return;
        }

        var (lockConnection, lockTx) = await CrmLocks.AcquireAsync(dataSource, $"crm:salesforce:{e.BookingId}", cancellationToken);
        await using (lockConnection)
        await using (lockTx)
        {
            // The booking as it is now: its current page's connection speaks for it, whatever page the event named.
            var booking = await db.Bookings.AcrossTenants().AsNoTracking().FirstOrDefaultAsync(b => b.Id == e.BookingId, cancellationToken);
            if (!CrmEvent.Counts(booking))
            {
                return;
            }

            var connection = await FindAsync(db, booking.BookingPageId, cancellationToken);
            if (connection is null || !connection.IsConnected)
            {
                return;
            }

            var settings = ReadSettings(connection.Settings);
            if (!settings.CreateActivityEvents)
            {
                return;
            }

            var record = await db.CrmRecords.AcrossTenants()
                .FirstOrDefaultAsync(r => r.BookingId == booking.Id && r.Provider == CrmConnection.Salesforce, cancellationToken);
            if (e.Type == CrmEvent.Reassigned)
            {
                var previousPage = e.PreviousPageOf(booking);
                var previous = previousPage is { } p ? await FindAsync(db, p, cancellationToken) : null;
                // Seed 001: the Event moves only when both pages use Salesforce, in the same org; otherwise nothing changes there.
                // Its owner then follows the booking's new owner (resolved below, as for every write).
                if (previous is null || !previous.IsConnected || previous.AccountId is null || previous.AccountId != connection.AccountId)
                {
                    return;
                }

                record ??= NewRecord(booking);
                record.Reassigned = true;
            }

            record ??= NewRecord(booking);
            await SyncAsync(db, connection, settings, booking, record, cancellationToken);
            await lockTx.CommitAsync(cancellationToken);
        }
    }

    private static Task<CrmConnection?> FindAsync(RendezvousDbContext db, Domain.BookingPageId pageId, CancellationToken ct) =>
        db.CrmConnections.AcrossTenants().AsNoTracking()
            .FirstOrDefaultAsync(c => c.Provider == CrmConnection.Salesforce && c.BookingPageId == pageId, ct);

    /// <summary>The Event status field's value for a booking (seed 002).</summary>
    public static string EventStatus(BookingStatus status, bool reassigned) => status switch
    {
        BookingStatus.Requested => "Requested",
        BookingStatus.Scheduled => reassigned ? "Scheduled (Reassigned by User)" : "Scheduled",
        BookingStatus.Rescheduled => reassigned ? "Rescheduled (Reassigned by User)" : "Rescheduled",
        BookingStatus.Completed => "Completed",
        BookingStatus.Canceled => "Canceled",
        BookingStatus.NoShow => "No-show",
        _ => BookingLifecycle.DisplayName(status),
    };

    public static SalesforceSettings ReadSettings(string json) =>
        JsonSerializer.Deserialize<SalesforceSettings>(json, JsonDefaults.Options) ?? new SalesforceSettings();

    private CrmRecord NewRecord(Booking booking) => new()
    {
        BookingId = booking.Id,
        Provider = CrmConnection.Salesforce,
        OrganizationId = booking.OrganizationId,
        UpdatedAt = clock.GetCurrentInstant(),
    };

    private async Task SyncAsync(RendezvousDbContext db, CrmConnection connection, SalesforceSettings settings, Booking booking, CrmRecord record,
        CancellationToken ct)
    {
        var page = await db.BookingPages.AcrossTenants().AsNoTracking().FirstAsync(p => p.Id == booking.BookingPageId, ct);
        var customer = await db.Customers.AcrossTenants().AsNoTracking().FirstAsync(c => c.Id == booking.CustomerId, ct);
        if (db.Entry(record).State == EntityState.Detached)
        {
            db.CrmRecords.Add(record);
        }

        try
        {
            if (record.RelatedTo is null)
            {
                await RelateAsync(connection, settings, customer, record, ct);
                record.UpdatedAt = clock.GetCurrentInstant();
                // Kept at once: a retry reuses the match (and never creates a second Lead).
                await db.SaveChangesAsync(ct);
            }

            var missing = await MissingFieldsAsync(db, connection, force: false, ct);
            var owner = await CrmOwners.ResolveAsync(db, connection, booking.OwnerId, clock.GetCurrentInstant(), FindUserAsync(connection), ct)
                ?? connection.AccountUserId;
            var meeting = await db.BookingConferencing.AsNoTracking().FirstOrDefaultAsync(m => m.BookingId == booking.Id, ct);
            UpsertResult result;
            try
            {
                result = await WriteEventAsync(db, connection, booking, page, customer, meeting, record, owner, missing, ct);
            }
            catch (IntegrationException ex) when (ex.ErrorCode is "INVALID_CROSS_REFERENCE_KEY" or "ENTITY_IS_DELETED" && record.RelatedTo != "None")
            {
                // The Lead, Contact or Case we matched is gone (deleted or merged): match again, once.
                LogRematch(logger, booking.Id.ToString(), ex.Message);
                record.WhoId = null;
                record.WhatId = null;
                await RelateAsync(connection, settings, customer, record, ct);
                result = await WriteEventAsync(db, connection, booking, page, customer, meeting, record, owner, missing, ct);
            }
            catch (IntegrationException ex) when (ex.Kind == IntegrationFailureKind.Configuration
                && ex.ErrorCode is "NOT_FOUND" or "INVALID_FIELD" or "NO_SUCH_COLUMN" or "INVALID_FIELD_FOR_INSERT_UPDATE")
            {
                // A field we thought was there is gone (or the other way round): look again, and write once more if that changed anything.
                var again = await MissingFieldsAsync(db, connection, force: true, ct);
                if (again.SetEquals(missing))
                {
                    throw;
                }

                result = await WriteEventAsync(db, connection, booking, page, customer, meeting, record, owner, again, ct);
            }

            var now = clock.GetCurrentInstant();
            record.ExternalId = result.Id ?? record.ExternalId;
            record.LastStatus = EventStatus(booking.Status, record.Reassigned);
            record.LastSyncedAt = now;
            record.LastError = null;
            record.UpdatedAt = now;
            await db.SaveChangesAsync(ct);
            await MarkConnectionAsync(db, connection.Id, null, now, ct);
        }
        catch (IntegrationException ex) when (ex.Kind == IntegrationFailureKind.Rejected)
        {
            // Salesforce refuses this record for good (a validation rule, a value it will not take): retrying cannot help.
            LogRejected(logger, ex, booking.Id.ToString());
            record.LastError = ex.Message;
            record.UpdatedAt = clock.GetCurrentInstant();
            await db.SaveChangesAsync(ct);
        }
        catch (IntegrationException ex)
        {
            await MarkConnectionAsync(db, connection.Id, ex.Message, clock.GetCurrentInstant(), CancellationToken.None);
            throw;
        }
    }

    /// <summary>Finds what the Event is about: a Contact or Lead by email (WhoId), else a Case by web email (WhatId), else a new Lead.</summary>
    private async Task RelateAsync(CrmConnection connection, SalesforceSettings settings, Customer customer, CrmRecord record, CancellationToken ct)
    {
        var email = Soql(customer.Email);
        var contact = await salesforce.QueryIdsAsync(connection.Id, $"SELECT Id FROM Contact WHERE Email = '{email}' ORDER BY CreatedDate LIMIT 1", ct);
        if (contact.Count > 0)
        {
            (record.WhoId, record.WhatId, record.RelatedTo) = (contact[0], null, "Contact");
            return;
        }

        var lead = await salesforce.QueryIdsAsync(connection.Id,
            $"SELECT Id FROM Lead WHERE Email = '{email}' AND IsConverted = false ORDER BY CreatedDate LIMIT 1", ct);
        if (lead.Count > 0)
        {
            (record.WhoId, record.WhatId, record.RelatedTo) = (lead[0], null, "Lead");
            return;
        }

        IReadOnlyList<string> cases;
        try
        {
            cases = await salesforce.QueryIdsAsync(connection.Id,
                $"SELECT Id FROM Case WHERE SuppliedEmail = '{email}' ORDER BY CreatedDate DESC LIMIT 1", ct);
        }
        catch (IntegrationException ex) when (ex.ErrorCode is "INVALID_TYPE")
        {
            // Orgs without Cases: nothing to match there.
            cases = [];
        }

        if (cases.Count > 0)
        {
            (record.WhoId, record.WhatId, record.RelatedTo) = (null, cases[0], "Case");
            return;
        }

        if (!settings.CreateLeads)
        {
            (record.WhoId, record.WhatId, record.RelatedTo) = (null, null, "None");
            return;
        }

        var (first, last) = SplitName(customer.Name);
        var fields = new JsonObject
        {
            ["FirstName"] = first,
            ["LastName"] = last,
            ["Email"] = customer.Email,
            // Company is required on Leads; a booking does not tell us one.
            ["Company"] = "[not provided]",
            ["LeadSource"] = Truncate(settings.LeadSource, 40),
        };
        if (customer.Phone is { } phone)
        {
            fields["Phone"] = Truncate(phone, 40);
        }

        var id = await salesforce.CreateAsync(connection.Id, "Lead", fields, ct);
        (record.WhoId, record.WhatId, record.RelatedTo) = (id, null, "NewLead");
    }

    /// <summary>How long the org's Event fields are trusted before they are described again.</summary>
    private static readonly Duration FieldsKeptFor = Duration.FromHours(1);

    /// <summary>
    /// The Rendezvous fields the org's Event object lacks (or the connected user cannot see), described at most once an hour
    /// per connection, or at once when <paramref name="force"/>. Kept on the connection, where its health shows them.
    /// </summary>
    private async Task<IReadOnlySet<string>> MissingFieldsAsync(RendezvousDbContext db, CrmConnection connection, bool force, CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        if (!force && connection.MissingFields is { } known && connection.FieldsCheckedAt is { } at && now - at < FieldsKeptFor)
        {
            return known.ToHashSet(StringComparer.Ordinal);
        }

        var names = await salesforce.FieldNamesAsync(connection.Id, "Event", ct);
        var missing = SalesforceFields.All.Where(f => !names.Contains(f)).ToList();
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            UPDATE crm_connections SET missing_fields = {missing.ToArray()}, fields_checked_at = {now} WHERE id = {connection.Id}
            """, ct);
        connection.MissingFields = missing;
        connection.FieldsCheckedAt = now;
        return missing.ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Looks a Salesforce user up by email (active users first), for <see cref="CrmOwners"/>.</summary>
    private Func<string, CancellationToken, Task<string?>> FindUserAsync(CrmConnection connection) => async (email, ct) =>
    {
        var ids = await salesforce.QueryIdsAsync(connection.Id,
            $"SELECT Id FROM User WHERE Email = '{Soql(email)}' AND IsActive = true ORDER BY CreatedDate LIMIT 1", ct);
        return ids.Count > 0 ? ids[0] : null;
    };

    /// <summary>
    /// Writes the Event. Once its id is known (kept on the booking's record), an update by id. Before that, with the booking
    /// id field, an upsert by it (a repeat finds the same Event); without the field, a create whose id is kept, where a
    /// create that may have happened without its answer arriving is first looked for (same subject and start), so a retry
    /// does not make a second Event. Fields the org lacks are left out rather than failing the whole Event.
    /// </summary>
    private async Task<UpsertResult> WriteEventAsync(RendezvousDbContext db, CrmConnection connection, Booking booking, BookingPage page,
        Customer customer, Data.Conferencing.BookingConferencing? meeting, CrmRecord record, string? owner, IReadOnlySet<string> missing,
        CancellationToken ct)
    {
        var subject = Truncate($"{page.Title} with {customer.Name}", 255);
        var fields = new JsonObject
        {
            ["Subject"] = subject,
            ["StartDateTime"] = InstantUtc(booking.Start),
            ["EndDateTime"] = InstantUtc(booking.End),
            // The one location rule: a location withheld by a reassignment stays out of the Event too (seed 001).
            ["Location"] = Conferencing.BookingLocation.For(page, booking, meeting, forCustomer: true) is { } where ? Truncate(where, 255) : null,
            ["Description"] = Describe(booking, customer),
        };
        if (!missing.Contains(SalesforceFields.EventStatus))
        {
            fields[SalesforceFields.EventStatus] = EventStatus(booking.Status, record.Reassigned);
        }

        if (!missing.Contains(SalesforceFields.Reason))
        {
            fields[SalesforceFields.Reason] = ReasonOf(booking);
        }

        if (record.WhoId is not null)
        {
            fields["WhoId"] = record.WhoId;
        }

        if (record.WhatId is not null)
        {
            fields["WhatId"] = record.WhatId;
        }

        if (owner is not null)
        {
            // Seed 002: the Activity's owner is the booking owner's Salesforce user (after a reassignment, the new owner's).
            fields["OwnerId"] = owner;
        }

        if (record.ExternalId is { } known)
        {
            // The Event we made: updated by its id, which works with or without the booking id field (and sets that
            // field on an Event made before it existed, so a later upsert by it finds this Event and makes no second one).
            var update = fields.DeepClone().AsObject();
            if (!missing.Contains(SalesforceFields.BookingId))
            {
                update[SalesforceFields.BookingId] = booking.Id.ToString();
            }

            try
            {
                await salesforce.UpdateAsync(connection.Id, "Event", known, update, ct);
                return new UpsertResult(known, false);
            }
            catch (IntegrationException ex) when (ex.StatusCode == 404 || ex.ErrorCode == "ENTITY_IS_DELETED")
            {
                // Someone deleted the Event in Salesforce: the booking still exists, so it gets a new one.
                record.ExternalId = null;
                record.CreateAttempts = 0;
            }
        }

        if (!missing.Contains(SalesforceFields.BookingId))
        {
            return await salesforce.UpsertAsync(connection.Id, "Event", SalesforceFields.BookingId, booking.Id.ToString(), fields, ct);
        }

        if (record.CreateAttempts > 0)
        {
            var found = await salesforce.QueryIdsAsync(connection.Id,
                $"SELECT Id FROM Event WHERE Subject = '{Soql(subject)}' AND StartDateTime = {InstantUtc(booking.Start)} ORDER BY CreatedDate DESC LIMIT 1", ct);
            if (found.Count > 0)
            {
                record.ExternalId = found[0];
                await salesforce.UpdateAsync(connection.Id, "Event", found[0], fields, ct);
                return new UpsertResult(found[0], false);
            }
        }

        // Counted before the call: if the answer is lost, the next attempt knows to look first.
        record.CreateAttempts++;
        record.UpdatedAt = clock.GetCurrentInstant();
        await db.SaveChangesAsync(ct);
        var id = await salesforce.CreateAsync(connection.Id, "Event", fields, ct);
        record.ExternalId = id;
        return new UpsertResult(id, true);
    }

    /// <summary>The reason given with the latest cancel, decline or reschedule, if any.</summary>
    public static string? ReasonOf(Booking booking) =>
        booking.History.Where(a => a.Action is BookingAction.Cancel or BookingAction.Decline or BookingAction.Reschedule)
            .OrderBy(a => a.At).ThenBy(a => a.Id).LastOrDefault()?.Reason is { Length: > 0 } reason
            ? Truncate(reason, 1000)
            : null;

    private static string Describe(Booking booking, Customer customer)
    {
        var text = new StringBuilder();
        text.Append("Booked through Rendezvous by ").Append(customer.Name).Append(" <").Append(customer.Email).Append('>');
        if (customer.Phone is { } phone)
        {
            text.Append(", ").Append(phone);
        }

        text.Append('.');
        foreach (var (question, answer) in booking.Answers.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            text.Append('\n').Append(question).Append(": ").Append(answer);
        }

        return Truncate(text.ToString(), 32000);
    }

    private async Task MarkConnectionAsync(RendezvousDbContext db, Guid connectionId, string? error, Instant now, CancellationToken ct)
    {
        if (error is null)
        {
            await db.Database.ExecuteSqlInterpolatedAsync($"""
                UPDATE crm_connections SET last_sync_at = {now}, last_error = NULL, last_error_at = NULL WHERE id = {connectionId}
                """, ct);
        }
        else
        {
            await db.Database.ExecuteSqlInterpolatedAsync($"""
                UPDATE crm_connections SET last_error = {error}, last_error_at = {now} WHERE id = {connectionId}
                """, ct);
        }
    }

    /// <summary>A value inside single quotes in SOQL: backslashes and quotes escaped.</summary>
    public static string Soql(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal);

    private static string InstantUtc(Instant instant) => NodaTime.Text.InstantPattern.ExtendedIso.Format(instant);

    private static (string? First, string Last) SplitName(string name)
    {
        var trimmed = name.Trim();
        var space = trimmed.LastIndexOf(' ');
        return space <= 0 ? (null, Truncate(trimmed, 80)) : (Truncate(trimmed[..space], 40), Truncate(trimmed[(space + 1)..], 80));
    }

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max];

    [LoggerMessage(Level = LogLevel.Warning, Message = "Salesforce refused the Event of booking {BookingId} for good")]
    private static partial void LogRejected(ILogger logger, Exception exception, string bookingId);

    [LoggerMessage(Level = LogLevel.Information, Message = "The record booking {BookingId} was related to is gone in Salesforce; matching again ({Reason})")]
    private static partial void LogRematch(ILogger logger, string bookingId, string reason);
}
