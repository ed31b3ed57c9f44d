using Microsoft.EntityFrameworkCore;
using NodaTime;
using Npgsql;
using Rendezvous.Data;
using Rendezvous.Domain;

namespace Rendezvous.Integrations.Notifications;

/// <summary>
/// A staff member's choice for the customer's email about one change (today: one reschedule): whether to send it, and
/// optionally its subject and message (placeholders allowed). Keyed by the booking and the change's position in the
/// booking's history, so it applies to that change's email only, however late the outbox gets to it.
/// </summary>
public sealed record EmailOverride(bool Send, string? Subject, string? Message);

/// <summary>Reads and writes <c>booking_email_overrides</c>.</summary>
public sealed class EmailOverrideStore(NpgsqlDataSource dataSource)
{
    /// <summary>Stores an override through <paramref name="db"/>, inside whatever transaction it has open (the change's own).</summary>
    public static async Task SaveAsync(RendezvousDbContext db, BookingId bookingId, int sequence, NotificationKind kind, EmailOverride value,
        UserId by, Instant now, CancellationToken ct) =>
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO booking_email_overrides (booking_id, sequence, kind, send, subject, message, created_by, created_at)
            VALUES ({bookingId.Value}, {sequence}, {Templates.NotificationNames.Of(kind)}, {value.Send}, {value.Subject}, {value.Message},
                    {by.Value}, {now})
            ON CONFLICT (booking_id, sequence, kind) DO UPDATE
                SET send = EXCLUDED.send, subject = EXCLUDED.subject, message = EXCLUDED.message,
                    created_by = EXCLUDED.created_by, created_at = EXCLUDED.created_at
            """, ct).ConfigureAwait(false);

    public async Task<EmailOverride?> FindAsync(BookingId bookingId, int sequence, NotificationKind kind, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT send, subject, message FROM booking_email_overrides
            WHERE booking_id = @booking AND sequence = @sequence AND kind = @kind
            """);
        command.Parameters.AddWithValue("booking", bookingId.Value);
        command.Parameters.AddWithValue("sequence", sequence);
        command.Parameters.AddWithValue("kind", Templates.NotificationNames.Of(kind));
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            return null;
        }

        return new EmailOverride(reader.GetBoolean(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2));
    }
}
