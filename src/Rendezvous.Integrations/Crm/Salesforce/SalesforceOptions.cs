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

    /// <summary>The three fields, in the order the setup lists them.</summary>
    public static IReadOnlyList<string> All { get; } = [BookingId, EventStatus, Reason];

    /// <summary>The Event status picklist's values (seed 002, with the reassigned variants of seed 001).</summary>
    public static IReadOnlyList<string> StatusValues { get; } =
    [
        "Requested", "Scheduled", "Rescheduled", "Completed", "Canceled", "No-show",
        "Scheduled (Reassigned by User)", "Rescheduled (Reassigned by User)",
    ];

    /// <summary>
    /// The Tooling API definition of a field (<c>CustomField</c> with <c>FullName</c> and <c>Metadata</c>). Event fields
    /// are Activity fields in Salesforce (Event and Task share them), so they are created on <c>Activity</c>.
    /// </summary>
    public static System.Text.Json.Nodes.JsonObject Definition(string field) => field switch
    {
        BookingId => new()
        {
            ["FullName"] = "Activity." + BookingId,
            ["Metadata"] = new System.Text.Json.Nodes.JsonObject
            {
                ["label"] = "Rendezvous booking id",
                ["type"] = "Text",
                ["length"] = 36,
                ["externalId"] = true,
                ["unique"] = true,
                ["description"] = "The Rendezvous booking this Event stands for.",
            },
        },
        EventStatus => new()
        {
            ["FullName"] = "Activity." + EventStatus,
            ["Metadata"] = new System.Text.Json.Nodes.JsonObject
            {
                ["label"] = "Event status",
                ["type"] = "Picklist",
                ["description"] = "Where the booking is in its lifecycle.",
                ["valueSet"] = new System.Text.Json.Nodes.JsonObject
                {
                    ["restricted"] = true,
                    ["valueSetDefinition"] = new System.Text.Json.Nodes.JsonObject
                    {
                        ["sorted"] = false,
                        ["value"] = new System.Text.Json.Nodes.JsonArray([.. StatusValues.Select(v =>
                            (System.Text.Json.Nodes.JsonNode?)new System.Text.Json.Nodes.JsonObject { ["fullName"] = v, ["label"] = v, ["default"] = false })]),
                    },
                },
            },
        },
        Reason => new()
        {
            ["FullName"] = "Activity." + Reason,
            ["Metadata"] = new System.Text.Json.Nodes.JsonObject
            {
                ["label"] = "Cancel/reschedule reason",
                ["type"] = "LongTextArea",
                ["length"] = 1000,
                ["visibleLines"] = 3,
                ["description"] = "The reason given with the latest cancel, decline or reschedule.",
            },
        },
        _ => throw new ArgumentOutOfRangeException(nameof(field), field, "not a Rendezvous field"),
    };
}
