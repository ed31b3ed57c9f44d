using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Organizations;
using MimeKit;
using Rendezvous.Integrations.Notifications.Email;
using Rendezvous.Integrations.Notifications.Templates;

namespace Rendezvous.Integrations.Notifications;

public sealed partial class BookingNotifier
{
    /// <summary>How many messages of one batch are composed and handed to the SMTP pool at the same time.</summary>
    public const int BatchParallelism = 32;

    /// <summary>
    /// Sends a round of notifications that describe bookings as they are now (reminders, follow-ups). Same messages and the
    /// same once-only guarantee as <see cref="SendAsync(NotificationRequest, CancellationToken)"/>, but the bookings are
    /// loaded and the email log claimed and marked in a few statements for the whole round, and the messages go out in
    /// parallel over the pooled SMTP connections.
    /// </summary>
    public async Task<IReadOnlyList<string?>> SendManyAsync(IReadOnlyList<NotificationRequest> requests, CancellationToken cancellationToken)
    {
        var results = new string?[requests.Count];
        if (!IsEnabled || requests.Count == 0)
        {
            return results;
        }

        if (!EmailAddresses.TryParse(options.Value.From, out var from))
        {
            Array.Fill(results, "Rendezvous__Smtp__From must be an email address.");
            return results;
        }

        var contexts = await LoadManyAsync(requests.Select(r => r.BookingId).Distinct().ToList(), cancellationToken);
        var now = clock.GetCurrentInstant();
        var domain = EmailAddresses.DomainOf(from.Address);
        var items = new List<(int Index, BookingContext Context, NotificationRequest Request, Change Change, Recipient Recipient, EmailLog.Entry Entry)>();
        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i];
            if (!contexts.TryGetValue(request.BookingId, out var context))
            {
                continue;
            }

            var change = Change.Of(context.Booking, request.Event, request.Kind);
            foreach (var recipient in Recipients(context, request, null))
            {
                var key = request.DeduplicationKey + ":" + recipient.Key;
                items.Add((i, context, request, change, recipient, new EmailLog.Entry(key, context.Organization.Id, context.Booking.Id,
                    NotificationNames.Of(request.Kind), recipient.Email, $"{Guid.CreateVersion7():N}@{domain}")));
            }
        }

        var claims = await log.ClaimManyAsync([.. items.Select(x => x.Entry)], now, cancellationToken);
        var sent = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = BatchParallelism, CancellationToken = cancellationToken },
            async (item, ct) =>
            {
                var (claim, messageId) = claims.TryGetValue(item.Entry.Key, out var c) ? c : (EmailClaim.Busy, item.Entry.MessageId);
                if (claim is EmailClaim.AlreadySent or EmailClaim.Failed)
                {
                    return;
                }

                if (claim == EmailClaim.Busy)
                {
                    results[item.Index] = $"{item.Entry.Key} is being sent by another process";
                    return;
                }

                if (!EmailAddresses.TryParse(item.Recipient.Email, out var to) || to.Address != item.Recipient.Email)
                {
                    await log.MarkFailedAsync(item.Entry.Key, permanent: true, $"\"{item.Recipient.Email}\" is not a valid email address", now, ct);
                    return;
                }

                try
                {
                    var email = await ComposeAsync(item.Context, item.Request.Kind, item.Change, item.Recipient, from, messageId, null, now, ct);
                    await transport.SendAsync(email, ct);
                    sent.Add(item.Entry.Key);
                }
                catch (MailDeliveryException ex) when (!ex.IsTransient && ex.IsMessageSpecific)
                {
                    await log.MarkFailedAsync(item.Entry.Key, permanent: true, ex.Message, clock.GetCurrentInstant(), CancellationToken.None);
                    LogRefused(logger, ex, item.Request.Kind, item.Context.Booking.Id.ToString());
                }
                catch (Exception ex) when (ex is MailDeliveryException or IOException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
                {
                    await log.MarkFailedAsync(item.Entry.Key, permanent: false, ex.Message, clock.GetCurrentInstant(), CancellationToken.None);
                    results[item.Index] = ex.Message;
                }
            });

        await log.MarkManySentAsync([.. sent], clock.GetCurrentInstant(), CancellationToken.None);
        return results;
    }

    /// <summary>Loads many bookings with their pages, customers, hosts and organizations in a handful of queries.</summary>
    private async Task<Dictionary<BookingId, BookingContext>> LoadManyAsync(IReadOnlyList<BookingId> ids, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
        var bookings = await db.Bookings.AcrossTenants().AsNoTracking().AsSplitQuery().Where(b => ids.Contains(b.Id)).ToListAsync(ct);
        var pageIds = bookings.Select(b => b.BookingPageId).Distinct().ToList();
        var customerIds = bookings.Select(b => b.CustomerId).Distinct().ToList();
        var userIds = bookings.SelectMany(b => b.Hosts.Select(h => h.UserId).Append(b.OwnerId)).Distinct().ToList();
        var orgIds = bookings.Select(b => b.OrganizationId).Distinct().ToList();
        var pages = await db.BookingPages.AcrossTenants().AsNoTracking().Where(p => pageIds.Contains(p.Id)).ToDictionaryAsync(p => p.Id, ct);
        var customers = await db.Customers.AcrossTenants().AsNoTracking().Where(c => customerIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, ct);
        var users = await db.Users.AcrossTenants().AsNoTracking().Where(u => userIds.Contains(u.Id)).ToDictionaryAsync(u => u.Id, ct);
        var organizations = await db.Organizations.AsNoTracking().Where(o => orgIds.Contains(o.Id)).ToDictionaryAsync(o => o.Id, ct);
        // Conferencing links (and withheld locations) reach reminders as they reach every other email.
        var meetings = await db.BookingConferencing.AsNoTracking().Where(m => ids.Contains(m.BookingId)).ToDictionaryAsync(m => m.BookingId, ct);
        var result = new Dictionary<BookingId, BookingContext>(bookings.Count);
        foreach (var booking in bookings)
        {
            var primaryId = booking.Hosts.FirstOrDefault(h => h.IsPrimary)?.UserId ?? booking.OwnerId;
            var hosts = booking.Hosts.OrderByDescending(h => h.IsPrimary).Select(h => users[h.UserId]).ToList();
            result[booking.Id] = new BookingContext(booking, pages[booking.BookingPageId], customers[booking.CustomerId], hosts, users[primaryId],
                organizations[booking.OrganizationId], meetings.GetValueOrDefault(booking.Id));
        }

        return result;
    }
}
