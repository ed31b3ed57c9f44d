using Rendezvous.Integrations;

namespace Rendezvous.Integrations.Crm.Salesforce;

/// <summary>
/// Settings under <c>Rendezvous:Salesforce</c>: the deployment's connected app (consumer key and secret), where to log in
/// (<c>https://test.salesforce.com</c> for sandboxes), and the REST API version. Each booking page authorizes its own
/// org through the web server flow.
/// </summary>
public sealed class SalesforceOptions : OutboundHttpOptions
{
    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    public string LoginUrl { get; set; } = "https://login.salesforce.com";

    /// <summary>The connected app's callback URL; defaults to <c>{PublicBaseUrl}/api/v1/salesforce/callback</c>.</summary>
    public string? RedirectUri { get; set; }

    public string ApiVersion { get; set; } = "v62.0";

    public bool IsConfigured => !string.IsNullOrWhiteSpace(ClientId) && !string.IsNullOrWhiteSpace(ClientSecret);
}

/// <summary>
/// A booking page's Salesforce settings (stored as JSON on the connection). Activity Events are created by default;
/// turn them off when calendars reach Salesforce another way (seed 002), or there will be two entries per meeting.
/// </summary>
public sealed record SalesforceSettings
{
    /// <summary>Create and keep an Event for each booking.</summary>
    public bool CreateActivityEvents { get; init; } = true;

    /// <summary>When no Lead, Contact or Case matches the customer's email, create a Lead to relate the Event to.</summary>
    public bool CreateLeads { get; init; } = true;

    /// <summary>The Lead Source of Leads we create.</summary>
    public string LeadSource { get; init; } = "Rendezvous";
}

/// <summary>The names of the fields Rendezvous writes on Salesforce Events (documented in docs/CRM.md).</summary>
public static class SalesforceFields
{
    /// <summary>Text(36), External ID, Unique: the booking id. Upserts go through it, so a repeat never duplicates.</summary>
    public const string BookingId = "Rendezvous_Booking_Id__c";

    /// <summary>Picklist "Event status": Requested, Scheduled, Rescheduled, Completed, Canceled, No-show and the reassigned variants.</summary>
    public const string EventStatus = "Rendezvous_Event_Status__c";

    /// <summary>Text area "Cancel/reschedule reason".</summary>
    public const string Reason = "Rendezvous_Reason__c";
}
