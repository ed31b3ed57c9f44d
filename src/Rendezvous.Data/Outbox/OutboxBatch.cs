using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;

namespace Rendezvous.Data.Outbox;

/// <summary>
/// The batch the outbox is running, visible to its handlers while they run (an ambient value, so the handler contract is
/// unchanged). Handlers use it to load what many messages of the batch need in one query instead of one per message:
/// the batch's bookings, and anything else a handler keeps under its own key. What is loaded is the state committed
/// when the batch first asked for it; every change made after that raises a message of its own, which runs after this
/// one (messages of one booking never run at the same time), so nothing is lost by reading it once.
/// </summary>
public sealed class OutboxBatch
{
    private static readonly AsyncLocal<OutboxBatch?> s_current = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<object?>>> _items = new(StringComparer.Ordinal);

    private readonly Lazy<IReadOnlyList<BookingId>> _bookingIds;

    public OutboxBatch(IReadOnlyList<OutboxEnvelope> messages)
    {
        Messages = messages;
        _bookingIds = new(() => [.. messages.Select(BookingIdOf).OfType<BookingId>().Distinct()]);
    }

    /// <summary>The batch the calling handler runs in, or null outside the outbox (a handler called directly).</summary>
    public static OutboxBatch? Current => s_current.Value;

    /// <summary>Every message claimed in this batch, in id order.</summary>
    public IReadOnlyList<OutboxEnvelope> Messages { get; }

    internal static IDisposable Enter(OutboxBatch batch)
    {
        var previous = s_current.Value;
        s_current.Value = batch;
        return new Scope(previous);
    }

    /// <summary>
    /// The value kept under <paramref name="key"/> for this batch, made by <paramref name="load"/> the first time it is asked
    /// for (once, however many lanes ask at the same moment). A load that fails is forgotten, so the next caller tries again.
    /// </summary>
    public async Task<T> GetOrAddAsync<T>(string key, Func<Task<T>> load)
    {
        ArgumentNullException.ThrowIfNull(load);
        var lazy = _items.GetOrAdd(key, _ => new Lazy<Task<object?>>(async () => await load().ConfigureAwait(false)));
        try
        {
            return (T)(await lazy.Value.ConfigureAwait(false))!;
        }
        catch
        {
            _items.TryRemove(new KeyValuePair<string, Lazy<Task<object?>>>(key, lazy));
            throw;
        }
    }

    /// <summary>The booking ids the batch's messages name (their <c>bookingId</c>), each once.</summary>
    public IReadOnlyList<BookingId> BookingIds() => _bookingIds.Value;

    /// <summary>The booking a message's payload names, if any.</summary>
    public static BookingId? BookingIdOf(OutboxEnvelope message)
    {
        ArgumentNullException.ThrowIfNull(message);
        try
        {
            using var doc = JsonDocument.Parse(message.Payload);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("bookingId", out var value) && value.ValueKind == JsonValueKind.String
                && Guid.TryParse(value.GetString(), out var guid)
                ? new BookingId(guid)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The booking (with its hosts and history) as the batch loaded it: every booking the batch names, in one query, the
    /// first time any handler asks. Outside a batch, or for a booking the batch does not name, it is read on its own.
    /// The entity is shared by the handlers of the batch and must not be changed.
    /// </summary>
    public static async Task<Booking?> FindBookingAsync(RendezvousDbContext db, BookingId id, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (Current is { } batch && batch.BookingIds().Contains(id))
        {
            var all = await batch.GetOrAddAsync("#bookings", async () =>
            {
                var ids = batch.BookingIds();
                var loaded = await db.Bookings.AcrossTenants().AsNoTracking().AsSplitQuery().Where(b => ids.Contains(b.Id))
                    .ToListAsync(CancellationToken.None).ConfigureAwait(false);
                return loaded.ToDictionary(b => b.Id);
            }).ConfigureAwait(false);
            return all.GetValueOrDefault(id);
        }

        return await db.Bookings.AcrossTenants().AsNoTracking().FirstOrDefaultAsync(b => b.Id == id, ct).ConfigureAwait(false);
    }

    private sealed class Scope(OutboxBatch? previous) : IDisposable
    {
        public void Dispose() => s_current.Value = previous;
    }
}
