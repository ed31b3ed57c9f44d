using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;
using Rendezvous.Integrations;
using Rendezvous.Integrations.Crm.Infusionsoft;
using Rendezvous.Integrations.Crm.Salesforce;
using Rendezvous.Integrations.Notifications;
using Rendezvous.Integrations.Notifications.Templates;
using Rendezvous.Integrations.Webhooks;

namespace Rendezvous.Server.Features.Automations;

/// <summary>The body an automation's webhook sends: the rule and the booking as it is when the run acts.</summary>
public sealed record AutomationWebhookBody(
    string Id, string Type, string CreatedAt, string OrganizationId, bool Sample, AutomationWebhookRule Automation, WebhookBookingData Booking);

public sealed record AutomationWebhookRule(string Id, string Name, string Trigger, int OffsetMinutes);

/// <summary>
/// Carries out a rule's action for one booking, through the parts that already do each thing: the notifier (templates,
/// placeholders, the email log's deduplication under <c>automation:{run}</c>), the webhooks' signing and HTTP client, the
/// Keap and Salesforce clients, and the booking's own lifecycle. Returns the line the run records as its result.
/// </summary>
public sealed class AutomationActions(
    RendezvousDbContext db, IBookingNotifier notifier, WebhookHttp webhookHttp, WebhookSecrets webhookSecrets, KeapClient keap,
    SalesforceClient salesforce, IClock clock)
{
    public const string AutomationEventType = "automation.triggered";

    /// <summary>How the result of a run whose Salesforce field does not exist begins (the connection's health looks for it).</summary>
    public const string MissingSalesforceField = "Failed: Salesforce's Event has no field ";

    public async Task<string> ExecuteAsync(AutomationRule rule, Booking booking, Guid runId, CancellationToken ct)
    {
        var action = rule.Action;
        switch (action.Kind)
        {
            case AutomationActionKinds.Email:
                return await EmailAsync(rule, booking, "automation:" + runId.ToString("N"), null, ct);
            case AutomationActionKinds.Webhook:
                return await WebhookAsync(rule, booking, "arun_" + runId.ToString("N"), sample: false, ct);
            case AutomationActionKinds.KeapTag:
                return await KeapTagAsync(rule, booking, ct);
            case AutomationActionKinds.SalesforceField:
                return await SalesforceFieldAsync(rule, booking, ct);
            case AutomationActionKinds.MarkNoShow or AutomationActionKinds.MarkCompleted:
                return await MarkAsync(rule, booking.Id, ct);
            default:
                throw new AutomationSkippedException("Failed", $"Failed: unknown action '{action.Kind}'");
        }
    }

    /// <summary>"Send me a sample": the rule's email or webhook, for <paramref name="booking"/>, to the signed-in user only.</summary>
    public async Task<Result<string>> SampleAsync(AutomationRule rule, Booking booking, string myEmail, CancellationToken ct)
    {
        try
        {
            return rule.Action.Kind switch
            {
                AutomationActionKinds.Email => await EmailAsync(rule, booking, "automation-sample:" + Guid.CreateVersion7().ToString("N"), myEmail, ct),
                AutomationActionKinds.Webhook => await WebhookAsync(rule, booking, "arun_sample_" + Guid.CreateVersion7().ToString("N"), sample: true, ct),
                _ => DomainError.Conflict("no_sample",
                    "Only email and webhook actions can be sampled: the others would change the booking or the CRM record of a real customer."),
            };
        }
        catch (AutomationSkippedException skipped)
        {
            return DomainError.Conflict("sample_failed", skipped.Message);
        }
        catch (Exception ex) when (ex is NotificationDeliveryException or HttpRequestException)
        {
            return DomainError.Conflict("sample_failed", ex.Message);
        }
    }

    private async Task<string> EmailAsync(AutomationRule rule, Booking booking, string key, string? sampleTo, CancellationToken ct)
    {
        var a = rule.Action;
        NotificationNames.TryParseKind(a.Template, out var kind);
        var recipients = a.To == "host" ? NotificationRecipients.Hosts : NotificationRecipients.Customer;
        var to = sampleTo ?? (a.To == "address" ? a.Address : null);
        await notifier.SendAsync(new NotificationRequest(booking.Id, kind, recipients, key)
        {
            Subject = a.Subject,
            Message = a.Message,
            ToAddress = to,
            LogKind = "automation",
        }, ct);
        if (to is not null)
        {
            return $"Emailed {to}" + (sampleTo is null ? "" : " (sample)");
        }

        if (a.To == "host")
        {
            return "Emailed the host";
        }

        var customer = await db.Customers.AcrossTenants().AsNoTracking().FirstAsync(c => c.Id == booking.CustomerId, ct);
        return $"Emailed the customer ({customer.Email})";
    }

    private async Task<string> WebhookAsync(AutomationRule rule, Booking booking, string eventId, bool sample, CancellationToken ct)
    {
        var subscriptionId = Guid.TryParse(rule.Action.WebhookId, out var g) ? g : Guid.Empty;
        var subscription = await db.WebhookSubscriptions.AcrossTenants().AsNoTracking()
            .FirstOrDefaultAsync(s => s.Id == subscriptionId && s.OrganizationId == rule.OrganizationId, ct);
        if (subscription is null)
        {
            throw new AutomationSkippedException("Failed", "Failed: the rule's webhook no longer exists");
        }

        var now = clock.GetCurrentInstant();
        var data = await BookingDataAsync(db, booking, ct);
        var body = JsonSerializer.Serialize(new AutomationWebhookBody(
            eventId, AutomationEventType, ApiFormat.Format(now), rule.OrganizationId.ToString(), sample,
            new AutomationWebhookRule(rule.Id.ToString(), rule.Name, rule.Trigger, rule.OffsetMinutes), data), JsonOptions);
        var signature = WebhookSecrets.Signature(webhookSecrets.Unprotect(subscription.ProtectedSecret), now.ToUnixTimeSeconds(), body);
        var outcome = await webhookHttp.SendAsync(subscription.Url, eventId, AutomationEventType, body, signature, ct);
        return outcome.Succeeded
            ? $"Webhook answered {outcome.StatusCode}" + (sample ? " (sample)" : "")
            : throw new HttpRequestException($"Webhook to {subscription.Url}: {outcome.Summary}");
    }

    /// <summary>The booking as automation webhooks describe it (the booking fields of subscriptions' events, as it is now).</summary>
    public static async Task<WebhookBookingData> BookingDataAsync(RendezvousDbContext db, Booking booking, CancellationToken ct)
    {
        var customer = await db.Customers.AcrossTenants().AsNoTracking().FirstAsync(c => c.Id == booking.CustomerId, ct);
        return new WebhookBookingData(
            booking.Id.ToString(), BookingLifecycle.ApiName(booking.Status), booking.DetailedStatus, ApiFormat.Format(booking.Start),
            ApiFormat.Format(booking.End), null, null, booking.BookingPageId.ToString(), booking.OwnerId.ToString(),
            new WebhookCustomer(customer.Name, customer.Email, customer.TimeZoneId ?? "UTC"), booking.LastReason,
            new WebhookActor("system", null), null, null);
    }

    private async Task<string> KeapTagAsync(AutomationRule rule, Booking booking, CancellationToken ct)
    {
        var connection = await ConnectionAsync(CrmConnection.Infusionsoft, booking, ct);
        var customer = await db.Customers.AcrossTenants().AsNoTracking().FirstAsync(c => c.Id == booking.CustomerId, ct);
        var record = await db.CrmRecords.AcrossTenants().AsNoTracking()
            .FirstOrDefaultAsync(r => r.BookingId == booking.Id && r.Provider == CrmConnection.Infusionsoft, ct);
        long contactId;
        if (record?.ExternalId is { } known && long.TryParse(known, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            contactId = id;
        }
        else
        {
            var name = customer.Name.Trim();
            var space = name.LastIndexOf(' ');
            var (given, family) = space <= 0 ? (name, (string?)null) : (name[..space], name[(space + 1)..]);
            contactId = await keap.UpsertContactAsync(connection.Id, customer.Email, given, family, customer.Phone, ct);
        }

        var tag = rule.Action.Tag!;
        var tagId = await keap.FindTagAsync(connection.Id, tag, ct)
            ?? await keap.CreateTagAsync(connection.Id, tag, "Applied by a Rendezvous automation", ct);
        await keap.ApplyTagsAsync(connection.Id, contactId, [tagId], ct);
        return $"Tagged Keap contact {contactId} \"{tag}\"";
    }

    private async Task<string> SalesforceFieldAsync(AutomationRule rule, Booking booking, CancellationToken ct)
    {
        var connection = await ConnectionAsync(CrmConnection.Salesforce, booking, ct);
        var record = await db.CrmRecords.AcrossTenants().AsNoTracking()
            .FirstOrDefaultAsync(r => r.BookingId == booking.Id && r.Provider == CrmConnection.Salesforce, ct);
        if (record?.ExternalId is not { } eventId)
        {
            // The Salesforce handler makes the Event from the same booking event; wait for it (the outbox retries).
            throw new InvalidOperationException("The booking's Salesforce Event does not exist yet.");
        }

        var customer = await db.Customers.AcrossTenants().AsNoTracking().FirstAsync(c => c.Id == booking.CustomerId, ct);
        var page = await db.BookingPages.AcrossTenants().AsNoTracking().FirstAsync(p => p.Id == booking.BookingPageId, ct);
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["customer.name"] = customer.Name,
            ["customer.email"] = customer.Email,
            ["customer.phone"] = customer.Phone ?? "",
            ["booking.title"] = page.Title,
            ["booking.start"] = ApiFormat.Format(booking.Start),
            ["booking.end"] = ApiFormat.Format(booking.End),
            ["booking.publicNotes"] = booking.PublicNotes ?? "",
            ["booking.reason"] = booking.LastReason ?? "",
        };
        var value = TemplateText.ParseValid(rule.Action.Value ?? "").Render(values);
        var field = rule.Action.Field!;
        try
        {
            await salesforce.UpdateAsync(connection.Id, "Event", eventId, new JsonObject { [field] = value }, ct);
        }
        catch (IntegrationException ex) when (ex.ErrorCode is "INVALID_FIELD" or "NO_SUCH_COLUMN" or "INVALID_FIELD_FOR_INSERT_UPDATE")
        {
            // A field that does not exist (or that the connected user cannot edit) will not appear by waiting: fail now.
            throw new AutomationSkippedException("Failed", $"{MissingSalesforceField}{field} that the connected user can edit ({ex.Message})");
        }
        catch (IntegrationException ex) when (ex.Kind == IntegrationFailureKind.Rejected)
        {
            // Salesforce refused this value for good (a validation rule, a value too long): retrying sends the same value.
            throw new AutomationSkippedException("Failed", $"Failed: Salesforce refused {field}: {ex.Message}");
        }

        return $"Set Salesforce Event {eventId} {field}";
    }

    private async Task<CrmConnection> ConnectionAsync(string provider, Booking booking, CancellationToken ct)
    {
        var connection = await db.CrmConnections.AcrossTenants().AsNoTracking()
            .FirstOrDefaultAsync(c => c.Provider == provider && c.BookingPageId == booking.BookingPageId, ct);
        var name = provider == CrmConnection.Salesforce ? "Salesforce" : "Keap";
        return connection is { IsConnected: true }
            ? connection
            : throw new AutomationSkippedException("Failed", $"Failed: the booking's page is not connected to {name}");
    }

    private async Task<string> MarkAsync(AutomationRule rule, BookingId bookingId, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        var booking = await db.Bookings.AcrossTenants().FirstAsync(b => b.Id == bookingId, ct);
        var now = clock.GetCurrentInstant();
        var noShow = rule.Action.Kind == AutomationActionKinds.MarkNoShow;
        var done = noShow
            ? booking.MarkNoShow(Actor.System, $"Automation \"{rule.Name}\"", now)
            : booking.Complete(now);
        if (!done.IsSuccess)
        {
            throw new AutomationSkippedException("Skipped", "Skipped: " + done.Error!.Message);
        }

        await db.SaveChangesAsync(ct);
        return noShow ? "Marked no-show" : "Marked completed";
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);
}
