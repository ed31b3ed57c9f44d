using Microsoft.EntityFrameworkCore;
using System.Text.Json;
using Npgsql;
using Rendezvous.Data;
using Rendezvous.Domain;

namespace Rendezvous.Integrations.Crm;

/// <summary>
/// The parts of a booking event CRM sync needs, read leniently from the outbox payload so that fields other features add
/// (a reassignment's previous page and owner) are understood without sharing their types.
/// </summary>
public sealed record CrmEvent(
    string Type,
    BookingId BookingId,
    OrganizationId OrganizationId,
    BookingPageId BookingPageId,
    bool Quiet,
    BookingPageId? PreviousBookingPageId,
    UserId? PreviousOwnerId)
{
    /// <summary>Raised when a booking moves to another host and page (by the reassignment feature).</summary>
    public const string Reassigned = "booking.reassigned";

    /// <summary>
    /// True when the CRM should hear about <paramref name="booking"/>: unpaid bookings (waiting, expired, or canceled before
    /// they were paid) were never bookings for the CRM.
    /// </summary>
    public static bool Counts([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] Domain.Bookings.Booking? booking) =>
        booking is not null && booking.Status != Domain.Bookings.BookingStatus.AwaitingPayment
        && booking.Payment is not { Status: Domain.Bookings.PaymentStatus.Expired or Domain.Bookings.PaymentStatus.Canceled };

    /// <summary>The page a reassigned booking came from, from the event (or, for older events, the page it named).</summary>
    public BookingPageId? PreviousPageOf(Domain.Bookings.Booking booking) =>
        PreviousBookingPageId ?? (BookingPageId != booking.BookingPageId ? BookingPageId : null);

    public static CrmEvent Parse(string type, string payload)
    {
        using var doc = JsonDocument.Parse(payload);
        var root = doc.RootElement;
        return new CrmEvent(
            type,
            new BookingId(Id(root, "bookingId") ?? throw new JsonException("The booking event has no bookingId.")),
            new OrganizationId(Id(root, "organizationId") ?? Guid.Empty),
            new BookingPageId(Id(root, "bookingPageId") ?? Guid.Empty),
            root.TryGetProperty("quiet", out var quiet) && quiet.ValueKind == JsonValueKind.True,
            Id(root, "previousBookingPageId", "fromBookingPageId") is { } page ? new BookingPageId(page) : null,
            Id(root, "previousOwnerId", "fromOwnerId") is { } owner ? new UserId(owner) : null);
    }

    private static Guid? Id(JsonElement root, params string[] names)
    {
        foreach (var name in names)
        {
            if (root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && Guid.TryParse(value.GetString(), out var id))
            {
                return id;
            }
        }

        return null;
    }
}

/// <summary>Serialises the CRM work of one booking across processes, so the latest state is always written last.</summary>
public static class CrmLocks
{
    /// <summary>
    /// False when, within an outbox batch, the booking's page has no connection to <paramref name="provider"/>: the pages
    /// connected to it are read once per batch, so the many bookings of unconnected pages cost no lock and no query each.
    /// Outside a batch it is always true and the caller looks for itself.
    /// </summary>
    public static async Task<bool> MayHaveConnectionAsync(Data.RendezvousDbContext db, string provider, Domain.BookingId bookingId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (Data.Outbox.OutboxBatch.Current is not { } batch)
        {
            return true;
        }

        var pages = await batch.GetOrAddAsync($"crm:{provider}:pages", async () => (await db.CrmConnections.AcrossTenants().AsNoTracking()
            .Where(c => c.Provider == provider)
            .Select(c => c.BookingPageId)
            .ToListAsync(CancellationToken.None)).ToHashSet());
        if (pages.Count == 0)
        {
            return false;
        }

        var booking = await Data.Outbox.OutboxBatch.FindBookingAsync(db, bookingId, ct);
        return booking is null || pages.Contains(booking.BookingPageId);
    }

    /// <summary>Holds a transaction-scoped advisory lock for <paramref name="key"/> until the returned transaction ends.</summary>
    public static async Task<(NpgsqlConnection Connection, NpgsqlTransaction Transaction)> AcquireAsync(NpgsqlDataSource dataSource, string key,
        CancellationToken ct)
    {
        var connection = await dataSource.OpenConnectionAsync(ct);
        var tx = await connection.BeginTransactionAsync(ct);
        await using var cmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended(@key, 0))", connection, tx);
        cmd.Parameters.AddWithValue("key", key);
        await cmd.ExecuteNonQueryAsync(ct);
        return (connection, tx);
    }
}
