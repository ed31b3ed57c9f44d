using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Npgsql;
using Rendezvous.Data;
using Rendezvous.Data.Outbox;
using Rendezvous.Data.Serialization;
using Rendezvous.Domain.Bookings;
using Rendezvous.Integrations;

namespace Rendezvous.Integrations.Crm.Infusionsoft;

/// <summary>
/// Tags the customer's Keap contact at each stage of the booking lifecycle (scheduled, rescheduled, canceled, completed,
/// no-show, and reassigned when the booking moves between two pages connected to the same Keap account, seed 001), from
/// the outbox. The contact is found or created by email in one create-or-update call and remembered; tags are looked up
/// by id or name once and remembered. Applying a tag twice changes nothing, so repeats are harmless. Tags are only ever
/// added: a contact may have other bookings, for which an older tag still holds. Quiet events and unpaid bookings send
/// nothing; failures are retried by the outbox as for Salesforce.
/// </summary>
public sealed partial class KeapOutboxHandler(
    IServiceScopeFactory scopes, KeapClient keap, NpgsqlDataSource dataSource, IClock clock, ILogger<KeapOutboxHandler> logger) : IOutboxHandler
{
    public string Name => "infusionsoft";

    public bool Handles(string type) => type.StartsWith("booking.", StringComparison.Ordinal);

    public async Task HandleAsync(OutboxEnvelope message, CancellationToken cancellationToken)
    {
        var e = CrmEvent.Parse(message.Type, message.Payload);
        if (e.Quiet || KeapStages.Of(e.Type) is not { } stage)
        {
            return;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
        if (!await CrmLocks.MayHaveConnectionAsync(db, CrmConnection.Infusionsoft, e.BookingId, cancellationToken))
        {
            return;
        }

        var (lockConnection, lockTx) = await CrmLocks.AcquireAsync(dataSource, $"crm:infusionsoft:{e.BookingId}", cancellationToken);
        await using (lockConnection)
        await using (lockTx)
        {
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

            if (stage == KeapStages.Reassigned)
            {
                var previousPage = e.PreviousPageOf(booking);
                var previous = previousPage is { } p ? await FindAsync(db, p, cancellationToken) : null;
                if (previous is null || !previous.IsConnected || previous.AccountId is null || previous.AccountId != connection.AccountId)
                {
                    return;
                }
            }

            var record = await db.CrmRecords.AcrossTenants()
                .FirstOrDefaultAsync(r => r.BookingId == booking.Id && r.Provider == CrmConnection.Infusionsoft, cancellationToken);
            if (record is null)
            {
                record = new CrmRecord
                {
                    BookingId = booking.Id,
                    Provider = CrmConnection.Infusionsoft,
                    OrganizationId = booking.OrganizationId,
                    UpdatedAt = clock.GetCurrentInstant(),
                };
                db.CrmRecords.Add(record);
            }

            try
            {
                var customer = await db.Customers.AcrossTenants().AsNoTracking().FirstAsync(c => c.Id == booking.CustomerId, cancellationToken);
                var tagId = await TagIdAsync(db, connection, stage, cancellationToken);
                var contactId = await ContactIdAsync(connection, customer, record, cancellationToken);
                try
                {
                    await keap.ApplyTagsAsync(connection.Id, contactId, [tagId], cancellationToken);
                }
                catch (IntegrationException ex) when (ex.ErrorCode == "NOT_FOUND")
                {
                    // The contact we remembered was deleted or merged in Keap: find or create it again, once.
                    record.ExternalId = null;
                    contactId = await ContactIdAsync(connection, customer, record, cancellationToken);
                    await keap.ApplyTagsAsync(connection.Id, contactId, [tagId], cancellationToken);
                }

                if (stage == KeapStages.Reassigned)
                {
                    await MoveOwnerAsync(db, connection, booking, contactId, cancellationToken);
                }

                var now = clock.GetCurrentInstant();
                if (!record.AppliedTags.Contains(stage))
                {
                    record.AppliedTags = [.. record.AppliedTags, stage];
                }

                record.Reassigned |= stage == KeapStages.Reassigned;
                record.LastStatus = stage;
                record.LastSyncedAt = now;
                record.LastError = null;
                record.UpdatedAt = now;
                await db.SaveChangesAsync(cancellationToken);
                await db.Database.ExecuteSqlInterpolatedAsync($"""
                    UPDATE crm_connections SET last_sync_at = {now}, last_error = NULL, last_error_at = NULL WHERE id = {connection.Id}
                    """, cancellationToken);
            }
            catch (IntegrationException ex) when (ex.Kind == IntegrationFailureKind.Rejected)
            {
                LogRejected(logger, ex, booking.Id.ToString(), stage);
                record.LastError = ex.Message;
                record.UpdatedAt = clock.GetCurrentInstant();
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (IntegrationException ex)
            {
                var now = clock.GetCurrentInstant();
                await db.Database.ExecuteSqlInterpolatedAsync($"""
                    UPDATE crm_connections SET last_error = {ex.Message}, last_error_at = {now} WHERE id = {connection.Id}
                    """, CancellationToken.None);
                throw;
            }

            await lockTx.CommitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Seed 001 ("the event ownership is updated"): the contact's owner becomes the booking's new owner's Keap user (an
    /// administrator's choice, or the Keap user with their email). When nobody matches, the owner is left as it is and the
    /// connection's health says why.
    /// </summary>
    private async Task MoveOwnerAsync(RendezvousDbContext db, CrmConnection connection, Booking booking, long contactId, CancellationToken ct)
    {
        var owner = await CrmOwners.ResolveAsync(db, connection, booking.OwnerId, clock.GetCurrentInstant(),
            (email, token) => keap.FindUserAsync(connection.Id, email, token), ct);
        if (owner is not null && long.TryParse(owner, NumberStyles.None, CultureInfo.InvariantCulture, out var ownerId))
        {
            await keap.SetContactOwnerAsync(connection.Id, contactId, ownerId, ct);
        }
        else
        {
            LogNoOwner(logger, booking.Id.ToString());
        }
    }

    public static KeapSettings ReadSettings(string json) =>
        JsonSerializer.Deserialize<KeapSettings>(json, JsonDefaults.Options) ?? new KeapSettings();

    private static Task<CrmConnection?> FindAsync(RendezvousDbContext db, Domain.BookingPageId pageId, CancellationToken ct) =>
        db.CrmConnections.AcrossTenants().AsNoTracking()
            .FirstOrDefaultAsync(c => c.Provider == CrmConnection.Infusionsoft && c.BookingPageId == pageId, ct);

    private async Task<long> ContactIdAsync(CrmConnection connection, Domain.Organizations.Customer customer, CrmRecord record, CancellationToken ct)
    {
        if (record.ExternalId is { } known && long.TryParse(known, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            return id;
        }

        var trimmed = customer.Name.Trim();
        var space = trimmed.LastIndexOf(' ');
        var (given, family) = space <= 0 ? (trimmed, (string?)null) : (trimmed[..space], trimmed[(space + 1)..]);
        id = await keap.UpsertContactAsync(connection.Id, customer.Email, given, family, customer.Phone, ct);
        record.ExternalId = id.ToString(CultureInfo.InvariantCulture);
        return id;
    }

    /// <summary>The configured tag id of a stage, or the id of the tag with its default name (created when missing), remembered.</summary>
    private async Task<long> TagIdAsync(RendezvousDbContext db, CrmConnection connection, string stage, CancellationToken ct)
    {
        var settings = ReadSettings(connection.Settings);
        if (settings.TagIds.TryGetValue(stage, out var configured))
        {
            return configured;
        }

        if (settings.ResolvedTagIds.TryGetValue(stage, out var resolved))
        {
            return resolved;
        }

        var name = KeapStages.DefaultTagNames[stage];
        var id = await keap.FindTagAsync(connection.Id, name, ct)
            ?? await keap.CreateTagAsync(connection.Id, name, "Applied by Rendezvous at this stage of a booking", ct);
        settings.ResolvedTagIds[stage] = id;
        var json = JsonSerializer.Serialize(settings, JsonDefaults.Options);
        // Only the remembered ids change; a settings update racing with this keeps its own values (jsonb merge).
        await db.Database.ExecuteSqlInterpolatedAsync($$"""
            UPDATE crm_connections
            SET settings = jsonb_set(settings, '{resolvedTagIds}', COALESCE(settings->'resolvedTagIds', '{}'::jsonb) || ({{json}}::jsonb->'resolvedTagIds'))
            WHERE id = {{connection.Id}}
            """, ct);
        return id;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "No Keap user stands for the new owner of booking {BookingId}; the contact's owner is left as it is")]
    private static partial void LogNoOwner(ILogger logger, string bookingId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Keap refused tagging booking {BookingId} as {Stage} for good")]
    private static partial void LogRejected(ILogger logger, Exception exception, string bookingId, string stage);
}
