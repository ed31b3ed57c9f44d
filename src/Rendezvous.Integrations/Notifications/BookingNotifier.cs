using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NodaTime;
using NodaTime.Text;
using Rendezvous.Calendars.ICalendar;
using Rendezvous.Calendars.Sync;
using Rendezvous.Data;
using Rendezvous.Data.Outbox;
using Rendezvous.Domain;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Organizations;
using System.Globalization;
using MimeKit;
using Rendezvous.Integrations.Localization;
using Rendezvous.Integrations.Notifications.Email;
using Rendezvous.Integrations.Notifications.Templates;

namespace Rendezvous.Integrations.Notifications;

/// <summary>
/// One notification about a booking. Without <see cref="Event"/> it describes the booking as it is now (reminders,
/// follow-ups); with it, the change the event records (its times, reason and place in the history), however much later
/// it is sent.
/// </summary>
public sealed record NotificationRequest(BookingId BookingId, NotificationKind Kind, NotificationRecipients Recipients, string DeduplicationKey)
{
    public BookingEvent? Event { get; init; }

    /// <summary>A host who made the change themselves and is not told about it.</summary>
    public UserId? SkipHost { get; init; }

    /// <summary>Fail (to be retried) rather than send while the booking's conferencing meeting is still being made.</summary>
    public bool WaitForMeeting { get; init; }

    /// <summary>Wording that replaces the template's for every recipient (an automation's own); needs <see cref="Message"/>.</summary>
    public string? Subject { get; init; }

    /// <summary>The body that goes with <see cref="Subject"/>; the booking's details are added below it.</summary>
    public string? Message { get; init; }

    /// <summary>Send only to this address (an automation's fixed address, or a sample to the signed-in user), with the hosts' template.</summary>
    public string? ToAddress { get; init; }

    /// <summary>The kind recorded in the email log, when it is not the template's (<c>automation</c>).</summary>
    public string? LogKind { get; init; }
}

/// <summary>Some emails of a notification could not be sent now; the ones that were are recorded and not sent again.</summary>
public sealed class NotificationDeliveryException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Sends booking emails: one message per recipient, in the recipient's time zone, from the organization's templates, with
/// the booking's calendar object (METHOD:REQUEST, or CANCEL for cancellations and declines; the booking's UID; SEQUENCE is
/// the change's position in the booking's history, so later changes always win in calendars). Each email is claimed in
/// <see cref="EmailLog"/> under the request's deduplication key plus the recipient before it goes out, so a repeat of the
/// same request sends nothing twice. Email is off while no SMTP host is configured.
/// </summary>
public sealed partial class BookingNotifier(
    IServiceScopeFactory scopes,
    IMailTransport transport,
    EmailTemplateStore templates,
    EmailLog log,
    EmailOverrideStore overrides,
    ISelfServiceLinks links,
    IOptions<SmtpOptions> options,
    IClock clock,
    ILogger<BookingNotifier> logger) : IBookingNotifier
{
    public bool IsEnabled => !string.IsNullOrWhiteSpace(options.Value.Host);

    public Task SendAsync(BookingId bookingId, NotificationKind kind, NotificationRecipients recipients, string deduplicationKey,
        CancellationToken cancellationToken) =>
        SendAsync(new NotificationRequest(bookingId, kind, recipients, deduplicationKey), cancellationToken);

    /// <summary>
    /// Sends the request's emails. Throws <see cref="NotificationDeliveryException"/> when any could not be sent for a
    /// reason that may pass (the caller retries; what was sent is skipped then). A recipient the server refuses for good is
    /// recorded as failed and not retried.
    /// </summary>
    public async Task SendAsync(NotificationRequest request, CancellationToken cancellationToken)
    {
        if (!IsEnabled)
        {
            LogDisabled(logger, request.Kind, request.BookingId.ToString());
            return;
        }

        if (!EmailAddresses.TryParse(options.Value.From, out var from))
        {
            throw new NotificationDeliveryException("Rendezvous__Smtp__From must be an email address, e.g. \"Bookings <no-reply@example.com>\".");
        }

        var context = await LoadAsync(request.BookingId, cancellationToken);
        if (context is null)
        {
            return;
        }

        if (request.WaitForMeeting && context.AwaitingMeeting
            && request.Kind is NotificationKind.Confirmation or NotificationKind.RequestApproved or NotificationKind.Rescheduled or NotificationKind.Reassigned)
        {
            throw new NotificationDeliveryException($"Waiting for the conferencing meeting of booking {context.Booking.Id} before sending {NotificationNames.Of(request.Kind)}.");
        }

        var change = Change.Of(context.Booking, request.Event, request.Kind);
        var customerOverride = request.Event is not null && request.Kind == NotificationKind.Rescheduled
            ? await overrides.FindAsync(context.Booking.Id, change.Sequence, request.Kind, cancellationToken)
            : null;

        var ownWording = request.Subject is not null && request.Message is not null ? new EmailOverride(true, request.Subject, request.Message) : null;
        var failures = new List<Exception>();
        foreach (var recipient in Recipients(context, request, customerOverride))
        {
            try
            {
                await SendOneAsync(context, request, change, recipient, from, ownWording ?? (recipient.IsCustomer ? customerOverride : null), cancellationToken);
            }
            catch (NotificationDeliveryException ex)
            {
                failures.Add(ex);
            }
        }

        if (failures.Count > 0)
        {
            throw new NotificationDeliveryException(
                $"{failures.Count} email(s) not sent yet: " + string.Join("; ", failures.Select(f => f.Message)), failures[0].InnerException);
        }
    }

    private async Task SendOneAsync(BookingContext context, NotificationRequest request, Change change, Recipient recipient, MailboxAddress from,
        EmailOverride? customOverride, CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        var key = request.DeduplicationKey + ":" + recipient.Key;
        var domain = EmailAddresses.DomainOf(from.Address);
        var entry = new EmailLog.Entry(key, context.Organization.Id, context.Booking.Id, request.LogKind ?? NotificationNames.Of(request.Kind), recipient.Email,
            $"{Guid.CreateVersion7():N}@{domain}");
        var (claim, messageId) = await log.ClaimAsync(entry, now, ct);
        switch (claim)
        {
            case EmailClaim.AlreadySent or EmailClaim.Failed:
                return;
            case EmailClaim.Busy:
                throw new NotificationDeliveryException($"{key} is being sent by another process");
            default:
                break;
        }

        // Addresses are validated when they are entered; this guards against anything older or imported.
        if (!EmailAddresses.TryParse(recipient.Email, out var to) || to.Address != recipient.Email)
        {
            await log.MarkFailedAsync(key, permanent: true, $"\"{recipient.Email}\" is not a valid email address", now, ct);
            LogInvalidAddress(logger, request.Kind, context.Booking.Id.ToString());
            return;
        }

        try
        {
            var email = await ComposeAsync(context, request.Kind, change, recipient, from, messageId, customOverride, now, ct);
            await transport.SendAsync(email, ct);
        }
        catch (MailDeliveryException ex) when (!ex.IsTransient && ex.IsMessageSpecific)
        {
            // The server refused this recipient or message for good: record it, and do not hold up the rest.
            await log.MarkFailedAsync(key, permanent: true, ex.Message, clock.GetCurrentInstant(), CancellationToken.None);
            LogRefused(logger, ex, request.Kind, context.Booking.Id.ToString());
            return;
        }
        catch (Exception ex) when (ex is MailDeliveryException or IOException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            // Transient, or a session-level refusal (authentication, sender, TLS) that needs the configuration fixed:
            // either way the outbox tries again with backoff.
            await log.MarkFailedAsync(key, permanent: false, ex.Message, clock.GetCurrentInstant(), CancellationToken.None);
            throw new NotificationDeliveryException($"{NotificationNames.Of(request.Kind)} to {recipient.Key}: {ex.Message}", ex);
        }
        catch
        {
            await log.MarkFailedAsync(key, permanent: false, "interrupted", clock.GetCurrentInstant(), CancellationToken.None);
            throw;
        }

        await log.MarkSentAsync(key, clock.GetCurrentInstant(), CancellationToken.None);
    }

    private async Task<EmailMessage> ComposeAsync(BookingContext context, NotificationKind kind, Change change, Recipient recipient,
        MailboxAddress from, string messageId, EmailOverride? customOverride, Instant now, CancellationToken ct)
    {
        var values = Values(context, change, recipient);
        var template = await templates.ForSendingAsync(context.Organization.Id, kind, recipient.Audience, recipient.Language, ct);
        var subject = template.Subject.Render(values);
        var text = template.Text.Render(values);
        var html = template.Html.Render(values, HtmlLayout.Escape);
        if (customOverride?.Subject is { } customSubject && Parsed(customSubject) is { } s)
        {
            subject = s.Render(values);
        }

        if (customOverride?.Message is { } message)
        {
            var source = message.TrimEnd() + "\n\n" + DefaultTemplates.DetailsBlockIn(recipient.Language) + "\n{{organization.name}}\n";
            if (Parsed(source) is { } t && Parsed(HtmlLayout.FromText(source, recipient.Language)) is { } h)
            {
                text = t.Render(values);
                html = h.Render(values, HtmlLayout.Escape);
            }
        }

        var booking = context.Booking;
        var primary = context.PrimaryHost;
        var customer = context.Customer;
        var ics = BookingCalendarEvent.Write(new BookingEventContent(
            booking.Id,
            recipient.IsCustomer ? Texts.Format(recipient.Culture, "{0} with {1}", context.Page.Title, primary.Name) : $"{context.Page.Title}: {customer.Name}",
            context.Page.Description, context.LocationFor(recipient.IsCustomer), change.Start, change.End, change.Status == BookingStatus.Requested,
            primary.Name, primary.Email, customer.Name, customer.Email, change.Sequence, now), change.Method);

        return new EmailMessage
        {
            From = new MailboxAddress(from.Name ?? context.Organization.Name, from.Address),
            To = [new MailboxAddress(recipient.Name, recipient.Email)],
            ReplyTo = ReplyTo(recipient.IsCustomer ? primary.Name : customer.Name, recipient.IsCustomer ? primary.Email : customer.Email),
            Subject = subject,
            Date = now,
            MessageId = messageId,
            TextBody = text,
            HtmlBody = html,
            Calendar = new CalendarPart(ics, change.Method.Value),
            Headers =
            [
                new("Auto-Submitted", "auto-generated"),
                new("X-Rendezvous-Booking", booking.Id.ToString()),
                new("X-Rendezvous-Kind", NotificationNames.Of(kind)),
            ],
        };
    }

    /// <summary>The other party, when their address is one (an old or imported address that is not is left out, not sent).</summary>
    private static MailboxAddress? ReplyTo(string name, string email) =>
        EmailAddresses.TryParse(email, out var parsed) && parsed.Address == email ? new MailboxAddress(name, email) : null;

    private static TemplateText? Parsed(string source)
    {
        var parsed = TemplateText.Parse(source, out var problems, out _);
        return problems.Count == 0 ? parsed : null;
    }

    private Dictionary<string, string> Values(BookingContext context, Change change, Recipient recipient)
    {
        var zone = recipient.Zone;
        var culture = recipient.Culture;
        var customer = context.Customer;
        var primary = context.PrimaryHost;
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["recipient.name"] = recipient.Name,
            ["customer.name"] = customer.Name,
            ["customer.email"] = customer.Email,
            ["customer.phone"] = customer.Phone ?? "",
            ["host.name"] = primary.Name,
            ["host.email"] = primary.Email,
            ["booking.title"] = context.Page.Title,
            ["booking.start"] = At(change.Start, zone, culture),
            ["booking.end"] = At(change.End, zone, culture),
            ["booking.when"] = Range(change.Start, change.End, zone, culture),
            ["booking.previousStart"] = change.PreviousStart is { } previous ? At(previous, zone, culture) : "",
            ["booking.duration"] = Texts.Duration(culture, (long)Math.Round((change.End - change.Start).TotalMinutes)),
            ["booking.timeZone"] = zone.Id,
            ["booking.location"] = context.LocationFor(recipient.IsCustomer) ?? "",
            // Customers see only the reason a person gave; a reason Rendezvous recorded itself is for staff.
            ["booking.reason"] = (recipient.IsCustomer ? change.CustomerReason : change.Reason) ?? "",
            ["booking.publicNotes"] = context.Booking.PublicNotes ?? "",
            // Customers get their self-service link; each host a signed staff link to reschedule or cancel (seed 003).
            ["manageUrl"] = recipient.IsCustomer ? links.ManageUrl(context.Booking) : recipient.UserId is { } hostId ? links.StaffManageUrl(context.Booking, hostId) ?? "" : "",
            ["organization.name"] = context.Organization.Name,
        };
    }

    /// <summary>"Monday, 15 March 2027, 10:00 (America/New_York)".</summary>
    public static string At(Instant instant, DateTimeZone zone) => At(instant, zone, CultureInfo.InvariantCulture);

    /// <summary>"Montag, 15. März 2027, 10:00 (Europe/Berlin)": in the language of <paramref name="culture"/> (English by default).</summary>
    public static string At(Instant instant, DateTimeZone zone, CultureInfo culture) =>
        $"{DatePatterns.EmailWhen(instant.InZone(zone).LocalDateTime, culture)} ({zone.Id})";

    /// <summary>"Monday, 15 March 2027, 10:00 to 10:30 (America/New_York)", or both dates when it ends on another day.</summary>
    public static string Range(Instant start, Instant end, DateTimeZone zone) => Range(start, end, zone, CultureInfo.InvariantCulture);

    public static string Range(Instant start, Instant end, DateTimeZone zone, CultureInfo culture)
    {
        var s = start.InZone(zone).LocalDateTime;
        var e = end.InZone(zone).LocalDateTime;
        var until = s.Date == e.Date ? DatePatterns.Time(e.TimeOfDay, culture) : DatePatterns.EmailWhen(e, culture);
        return Texts.Format(culture, "{0} to {1} ({2})", DatePatterns.EmailWhen(s, culture), until, zone.Id);
    }

    private static IEnumerable<Recipient> Recipients(BookingContext context, NotificationRequest request, EmailOverride? customerOverride)
    {
        if (request.ToAddress is { } address)
        {
            // Someone outside the booking: the hosts' wording, in the primary host's time zone.
            yield return new Recipient("address:" + address, TemplateAudience.Host, address, address,
                TimeZones.Find(context.PrimaryHost.TimeZoneId) ?? DateTimeZone.Utc, Languages.Normalize(context.PrimaryHost.Language));
            yield break;
        }

        if (request.Recipients.HasFlag(NotificationRecipients.Customer) && customerOverride?.Send != false)
        {
            var c = context.Customer;
            yield return new Recipient("customer", TemplateAudience.Customer, c.Name, c.Email, TimeZones.Find(c.TimeZoneId) ?? DateTimeZone.Utc,
                Languages.Normalize(c.Language));
        }

        if (request.Recipients.HasFlag(NotificationRecipients.Hosts))
        {
            foreach (var host in context.Hosts.Where(h => h.Id != request.SkipHost))
            {
                yield return new Recipient("host:" + host.Id, TemplateAudience.Host, host.Name, host.Email,
                    TimeZones.Find(host.TimeZoneId) ?? DateTimeZone.Utc, Languages.Normalize(host.Language)) { UserId = host.Id };
            }
        }
    }

    private async Task<BookingContext?> LoadAsync(BookingId id, CancellationToken ct)
    {
        if (OutboxBatch.Current is { } batch && batch.BookingIds().Contains(id))
        {
            // From the outbox: the bookings of the whole batch, with their pages, customers, hosts and organizations, are
            // read once for all its messages (a handful of queries instead of seven per message).
            var contexts = await batch.GetOrAddAsync("notifications:contexts", () => LoadManyAsync(batch.BookingIds(), CancellationToken.None));
            if (!contexts.TryGetValue(id, out var context))
            {
                return null;
            }

            if (context.Page.Conferencing is null)
            {
                return context;
            }

            // The meeting is made by the conferencing handler of this very message, after the batch was read: read it now.
            await using var meetingScope = scopes.CreateAsyncScope();
            var meetingDb = meetingScope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
            return context with { Meeting = await meetingDb.BookingConferencing.AsNoTracking().FirstOrDefaultAsync(m => m.BookingId == id, ct) };
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
        var booking = await db.Bookings.AcrossTenants().AsNoTracking().FirstOrDefaultAsync(b => b.Id == id, ct);
        if (booking is null)
        {
            return null;
        }

        var page = await db.BookingPages.AcrossTenants().AsNoTracking().FirstAsync(p => p.Id == booking.BookingPageId, ct);
        var customer = await db.Customers.AcrossTenants().AsNoTracking().FirstAsync(c => c.Id == booking.CustomerId, ct);
        var hostIds = booking.Hosts.Select(h => h.UserId).Append(booking.OwnerId).Distinct().ToList();
        var users = await db.Users.AcrossTenants().AsNoTracking().Where(u => hostIds.Contains(u.Id)).ToDictionaryAsync(u => u.Id, ct);
        var organization = await db.Organizations.AsNoTracking().FirstAsync(o => o.Id == booking.OrganizationId, ct);
        var primaryId = booking.Hosts.FirstOrDefault(h => h.IsPrimary)?.UserId ?? booking.OwnerId;
        var hosts = booking.Hosts.OrderByDescending(h => h.IsPrimary).Select(h => users[h.UserId]).ToList();
        var meeting = await db.BookingConferencing.AsNoTracking().FirstOrDefaultAsync(m => m.BookingId == booking.Id, ct);
        return new BookingContext(booking, page, customer, hosts, users[primaryId], organization, meeting);
    }

    private sealed record BookingContext(Booking Booking, BookingPage Page, Customer Customer, IReadOnlyList<User> Hosts, User PrimaryHost,
        Organization Organization, Data.Conferencing.BookingConferencing? Meeting)
    {
        /// <summary>The location for the customer or for the hosts (a withheld location is left out for the customer).</summary>
        public string? LocationFor(bool customer) => Conferencing.BookingLocation.For(Page, Booking, Meeting, customer);

        /// <summary>The page uses a conferencing service and the booking's meeting link does not exist yet.</summary>
        public bool AwaitingMeeting => Page.Conferencing is not null && !Booking.LocationWithheld
            && Booking.Status is BookingStatus.Scheduled or BookingStatus.Rescheduled
            && Meeting is not { Deleted: false, JoinUrl.Length: > 0 };
    }

    /// <summary>One addressee, with the zone and language (a supported two-letter code) their email is written in.</summary>
    private sealed record Recipient(string Key, TemplateAudience Audience, string Name, string Email, DateTimeZone Zone, string Language)
    {
        public CultureInfo Culture => Languages.Culture(Language);

        /// <summary>The host's user id (null for the customer).</summary>
        public UserId? UserId { get; init; }

        public bool IsCustomer => Audience == TemplateAudience.Customer;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Email is off (no Rendezvous__Smtp__Host); {Kind} for booking {BookingId} not sent")]
    private static partial void LogDisabled(ILogger logger, NotificationKind kind, string bookingId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Kind} for booking {BookingId} not sent: the recipient's address is invalid")]
    private static partial void LogInvalidAddress(ILogger logger, NotificationKind kind, string bookingId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Kind} for booking {BookingId} refused by the mail server for good")]
    private static partial void LogRefused(ILogger logger, Exception exception, NotificationKind kind, string bookingId);
}

/// <summary>What an email describes: the times, reason and status of one change (or of the booking now), and its place in the booking's history.</summary>
internal sealed record Change(Instant Start, Instant End, Instant? PreviousStart, string? Reason, BookingStatus Status, int Sequence, ITipMethod Method)
{
    /// <summary>The reason as the customer may see it: only one a person gave (<see cref="Actor.ReasonForCustomer"/>).</summary>
    public string? CustomerReason { get; init; }

    public static Change Of(Booking booking, BookingEvent? e, NotificationKind kind)
    {
        var status = e?.Status ?? booking.Status;
        var cancel = kind is NotificationKind.Canceled or NotificationKind.RequestDeclined || status == BookingStatus.Canceled;
        var latest = booking.History.Where(a => !string.IsNullOrWhiteSpace(a.Reason)).OrderBy(a => a.At).ThenBy(a => a.Id).LastOrDefault();
        var customerReason = e is null
            ? latest is null ? null : Actor.ReasonForCustomer(latest.ActorKind, latest.Reason)
            : Actor.ReasonForCustomer(e.Actor.Kind, e.Reason);
        return new Change(e?.Start ?? booking.Start, e?.End ?? booking.End, e?.PreviousStart, e is null ? booking.LastReason : e.Reason, status,
            SequenceOf(booking, e), cancel ? ITipMethod.Cancel : ITipMethod.Request) { CustomerReason = customerReason };
    }

    /// <summary>
    /// The position of <paramref name="e"/>'s entry in the booking's history (0 for the creation), or of the latest entry
    /// when there is no event. Entries are in insertion order; the event's entry is the one with its time, status, times
    /// and actor (and, for a move, whose predecessor started where the event says it came from).
    /// </summary>
    public static int SequenceOf(Booking booking, BookingEvent? e)
    {
        var history = booking.History.OrderBy(a => a.Id).ToList();
        if (e is null)
        {
            return Math.Max(0, history.Count - 1);
        }

        for (var i = 0; i < history.Count; i++)
        {
            var a = history[i];
            if (a.At == e.OccurredAt && a.ToStatus == e.Status && a.Start == e.Start && a.End == e.End && a.ActorKind == e.Actor.Kind
                && (e.PreviousStart is null || (i > 0 && history[i - 1].Start == e.PreviousStart)))
            {
                return i;
            }
        }

        return Math.Max(0, history.Count - 1);
    }
}
