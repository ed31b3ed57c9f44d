namespace Rendezvous.Server.Infrastructure.OpenApi;

/// <summary>One operation of the public API as its contract names it.</summary>
/// <param name="Method">The HTTP method, upper case.</param>
/// <param name="Path">The route as the OpenAPI document writes it (no constraints).</param>
/// <param name="Id">The stable operationId: generated clients name their methods after it, so it never changes.</param>
/// <param name="Summary">One line saying what the operation does.</param>
public sealed record ApiOperation(string Method, string Path, string Id, string Summary)
{
    /// <summary>
    /// The scope area (bookings, pages, users, calendars, webhooks, admin): an OAuth token or scoped key needs
    /// <c>{area}:read</c> for a GET and <c>{area}:write</c> otherwise.
    /// </summary>
    public string Area => ApiOperations.AreaOf(Id);

    public string Scope => Area + (Method == "GET" ? ":read" : ":write");
}

/// <summary>
/// The table of every operation of the API: its operationId and summary. Kept in one place, rather than on each route,
/// so ids stay stable and unique and a new route without an entry fails the contract test (OpenApiContractTests).
/// </summary>
public static class ApiOperations
{
    /// <summary>The scopes an OAuth app may ask for (decision 0031; the authorization server grants them).</summary>
    public static IReadOnlyDictionary<string, string> Scopes { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["bookings:read"] = "Read bookings, their history and payments",
        ["bookings:write"] = "Cancel, reschedule, approve, decline and reassign bookings",
        ["pages:read"] = "Read booking pages and their integrations",
        ["pages:write"] = "Create and change booking pages",
        ["users:read"] = "Read users and their busy times",
        ["users:write"] = "Create users, keys and busy times",
        ["calendars:read"] = "Read calendar connections",
        ["calendars:write"] = "Connect, change and disconnect calendars",
        ["webhooks:read"] = "Read webhook subscriptions and deliveries",
        ["webhooks:write"] = "Create, change and replay webhooks",
        ["admin:read"] = "Read the organization's administration (automations, templates, spaces, outbox, ...)",
        ["admin:write"] = "Change the organization's administration",
    };

    public static IReadOnlyList<ApiOperation> All { get; } =
    [
        new("POST", "/api/v1/users", "Users_Create", "Create a user (administrators)"),
        new("GET", "/api/v1/users", "Users_List", "List the organization's users"),
        new("GET", "/api/v1/users/{id}", "Users_Get", "Get a user"),
        new("POST", "/api/v1/users/{id}/api-keys", "Users_CreateApiKey", "Create an API key for a user (shown once)"),
        new("GET", "/api/v1/users/{id}/api-keys", "Users_ListApiKeys", "List a user's API keys with their scopes, expiry and last use"),
        new("DELETE", "/api/v1/users/{id}/api-keys/{keyId}", "Users_RevokeApiKey", "Revoke one of a user's API keys"),
        new("PUT", "/api/v1/users/{id}/password", "Users_SetPassword", "Set a user's sign-in password"),
        new("GET", "/api/v1/bookings/{id}/reschedule-types", "Bookings_ListRescheduleTypes", "List the appointment types a booking may be rescheduled into"),
        new("GET", "/api/v1/self-service/{token}/types", "SelfService_ListTypes", "List the appointment types a self-service link may switch to"),
        new("GET", "/api/v1/routing-forms", "RoutingForms_List", "List the organization's routing forms"),
        new("POST", "/api/v1/routing-forms", "RoutingForms_Create", "Create a routing form (administrators)"),
        new("GET", "/api/v1/routing-forms/{id}", "RoutingForms_Get", "Get a routing form"),
        new("PUT", "/api/v1/routing-forms/{id}", "RoutingForms_Update", "Update a routing form (administrators)"),
        new("DELETE", "/api/v1/routing-forms/{id}", "RoutingForms_Delete", "Delete a routing form (administrators)"),
        new("GET", "/api/v1/routing/{slug}", "Routing_GetForm", "Get a public routing form's questions"),
        new("POST", "/api/v1/routing/{slug}", "Routing_Answer", "Answer a public routing form and get where it sends the visitor"),
        new("GET", "/api/v1/embed-settings", "EmbedSettings_Get", "Get the origins allowed to embed the organization's booking pages"),
        new("PUT", "/api/v1/embed-settings", "EmbedSettings_Update", "Set the origins allowed to embed the organization's booking pages"),
        new("GET", "/api/v1/users/{id}/busy-blocks", "BusyBlocks_List", "List a user's busy blocks"),
        new("POST", "/api/v1/users/{id}/busy-blocks", "BusyBlocks_Create", "Add a busy block for a user"),
        new("DELETE", "/api/v1/users/{id}/busy-blocks/{blockId}", "BusyBlocks_Delete", "Remove a busy block"),
        new("POST", "/api/v1/booking-pages", "BookingPages_Create", "Create a booking page"),
        new("GET", "/api/v1/booking-pages", "BookingPages_List", "List booking pages"),
        new("GET", "/api/v1/booking-pages/{id}", "BookingPages_Get", "Get a booking page"),
        new("PUT", "/api/v1/booking-pages/{id}", "BookingPages_Update", "Update a booking page"),
        new("GET", "/api/v1/booking-pages/{slug}/slots", "PublicBooking_ListSlots", "List a public page's free slots between two dates"),
        new("POST", "/api/v1/booking-pages/{slug}/bookings", "PublicBooking_Create", "Book a slot on a public page"),
        new("GET", "/api/v1/bookings/{id}/automation-runs", "Automations_ListBookingRuns", "List the automation runs of a booking"),
        new("GET", "/api/v1/bookings", "Bookings_List", "List bookings by start time"),
        new("GET", "/api/v1/bookings/{id}", "Bookings_Get", "Get a booking with its history"),
        new("POST", "/api/v1/bookings/{id}/cancel", "Bookings_Cancel", "Cancel a booking"),
        new("POST", "/api/v1/bookings/{id}/approve", "Bookings_Approve", "Approve a requested booking"),
        new("POST", "/api/v1/bookings/{id}/decline", "Bookings_Decline", "Decline a requested booking"),
        new("POST", "/api/v1/bookings/{id}/no-show", "Bookings_MarkNoShow", "Mark a booking as a no-show"),
        new("POST", "/api/v1/bookings/{id}/reschedule", "Bookings_Reschedule", "Move a booking to another start time"),
        new("POST", "/api/v1/calendar-connections", "CalendarConnections_Create", "Connect a CalDAV or Exchange calendar"),
        new("GET", "/api/v1/calendar-connections", "CalendarConnections_List", "List calendar connections"),
        new("GET", "/api/v1/calendar-connections/{id}", "CalendarConnections_Get", "Get a calendar connection and its health"),
        new("PUT", "/api/v1/calendar-connections/{id}", "CalendarConnections_Update", "Update a calendar connection"),
        new("DELETE", "/api/v1/calendar-connections/{id}", "CalendarConnections_Delete", "Disconnect a calendar"),
        new("GET", "/api/v1/calendar-connections/google/authorize", "CalendarConnections_GoogleAuthorize", "Start connecting a Google calendar"),
        new("GET", "/api/v1/calendar-connections/google/callback", "CalendarConnections_GoogleCallback", "Finish connecting a Google calendar (OAuth redirect)"),
        new("GET", "/api/v1/calendar-connections/{id}/calendars", "CalendarConnections_ListCalendars", "List the calendars a connection can see"),
        new("GET", "/api/v1/calendar-connections/microsoft/authorize", "CalendarConnections_MicrosoftAuthorize", "Start connecting a Microsoft 365 calendar"),
        new("GET", "/api/v1/calendar-connections/microsoft/callback", "CalendarConnections_MicrosoftCallback", "Finish connecting a Microsoft 365 calendar (OAuth redirect)"),
        new("GET", "/api/v1/self-service/{token}", "SelfService_Get", "Get the booking behind a self-service link"),
        new("GET", "/api/v1/self-service/{token}/slots", "SelfService_ListSlots", "List slots a self-service link may move its booking to"),
        new("POST", "/api/v1/self-service/{token}/cancel", "SelfService_Cancel", "Cancel a booking through its self-service link"),
        new("POST", "/api/v1/self-service/{token}/reschedule", "SelfService_Reschedule", "Reschedule a booking through its self-service link"),
        new("POST", "/api/v1/portal/{org}/sign-in-link", "Portal_RequestSignInLink", "Email a customer a portal sign-in link"),
        new("POST", "/api/v1/portal/{org}/sign-in", "Portal_SignIn", "Sign in to the customer portal with a password"),
        new("POST", "/api/v1/portal/{org}/sign-out", "Portal_SignOut", "Sign out of the customer portal"),
        new("GET", "/api/v1/portal/{org}/me", "Portal_GetMe", "Get the signed-in customer"),
        new("POST", "/api/v1/portal/{org}/password", "Portal_SetPassword", "Set the signed-in customer's password"),
        new("GET", "/api/v1/portal/{org}/appointments", "Portal_ListAppointments", "List the signed-in customer's appointments"),
        new("GET", "/api/v1/portal-settings", "PortalAccess_GetSettings", "Get who may use the customer portal"),
        new("PUT", "/api/v1/portal-settings", "PortalAccess_SetSettings", "Set who may use the customer portal"),
        new("GET", "/api/v1/customers", "Customers_List", "List customers with their portal access"),
        new("GET", "/api/v1/customers/{id}", "Customers_Get", "Get a customer's portal access"),
        new("PUT", "/api/v1/customers/{id}", "Customers_Update", "Set a customer's portal access and company"),
        new("GET", "/api/v1/companies", "Companies_List", "List companies"),
        new("POST", "/api/v1/companies", "Companies_Create", "Create a company"),
        new("GET", "/api/v1/companies/{id}", "Companies_Get", "Get a company with its contacts"),
        new("PUT", "/api/v1/companies/{id}", "Companies_Update", "Update a company"),
        new("DELETE", "/api/v1/companies/{id}", "Companies_Delete", "Delete a company"),
        new("POST", "/api/v1/webhooks", "Webhooks_Create", "Subscribe a URL to booking events"),
        new("GET", "/api/v1/webhooks", "Webhooks_List", "List webhook subscriptions"),
        new("GET", "/api/v1/webhooks/{id}", "Webhooks_Get", "Get a webhook subscription"),
        new("PUT", "/api/v1/webhooks/{id}", "Webhooks_Update", "Update a webhook subscription"),
        new("DELETE", "/api/v1/webhooks/{id}", "Webhooks_Delete", "Delete a webhook subscription"),
        new("POST", "/api/v1/webhooks/{id}/rotate-secret", "Webhooks_RotateSecret", "Rotate a subscription's signing secret (shown once)"),
        new("GET", "/api/v1/webhooks/{id}/deliveries", "Webhooks_ListDeliveries", "List a subscription's deliveries and their attempts"),
        new("POST", "/api/v1/webhooks/deliveries/{deliveryId}/replay", "Webhooks_ReplayDelivery", "Send a delivery again"),
        new("GET", "/api/v1/automations", "Automations_List", "List automations"),
        new("POST", "/api/v1/automations", "Automations_Create", "Create an automation"),
        new("GET", "/api/v1/automations/{id}", "Automations_Get", "Get an automation"),
        new("PUT", "/api/v1/automations/{id}", "Automations_Update", "Update an automation"),
        new("DELETE", "/api/v1/automations/{id}", "Automations_Delete", "Delete an automation"),
        new("POST", "/api/v1/automations/{id}/test", "Automations_Test", "Dry-run an automation against a booking"),
        new("GET", "/api/v1/automations/{id}/runs", "Automations_ListRuns", "List an automation's runs"),
        new("GET", "/api/v1/email-templates", "EmailTemplates_List", "List email templates and their placeholders"),
        new("GET", "/api/v1/email-templates/{kind}", "EmailTemplates_Get", "Get one email template"),
        new("PUT", "/api/v1/email-templates/{kind}", "EmailTemplates_Put", "Customise an email template"),
        new("DELETE", "/api/v1/email-templates/{kind}", "EmailTemplates_Reset", "Go back to the built-in email template"),
        new("GET", "/api/v1/booking-pages/{id}/salesforce", "Crm_GetSalesforce", "Get a page's Salesforce connection"),
        new("PUT", "/api/v1/booking-pages/{id}/salesforce", "Crm_PutSalesforce", "Set a page's Salesforce settings"),
        new("DELETE", "/api/v1/booking-pages/{id}/salesforce", "Crm_DeleteSalesforce", "Disconnect a page from Salesforce"),
        new("GET", "/api/v1/booking-pages/{id}/infusionsoft", "Crm_GetInfusionsoft", "Get a page's Keap (Infusionsoft) connection"),
        new("PUT", "/api/v1/booking-pages/{id}/infusionsoft", "Crm_PutInfusionsoft", "Set a page's Keap (Infusionsoft) tags"),
        new("DELETE", "/api/v1/booking-pages/{id}/infusionsoft", "Crm_DeleteInfusionsoft", "Disconnect a page from Keap (Infusionsoft)"),
        new("POST", "/api/v1/booking-pages/{id}/salesforce/fields", "Crm_CreateSalesforceFields", "Create the custom Salesforce fields a page writes"),
        new("GET", "/api/v1/salesforce/authorize", "Crm_SalesforceAuthorize", "Start connecting Salesforce"),
        new("GET", "/api/v1/salesforce/callback", "Crm_SalesforceCallback", "Finish connecting Salesforce (OAuth redirect)"),
        new("GET", "/api/v1/users/{userId}/crm-owners", "Crm_ListOwners", "List a user's CRM owner mappings"),
        new("PUT", "/api/v1/users/{userId}/crm-owners/{provider}", "Crm_PutOwner", "Map a user to a CRM owner"),
        new("DELETE", "/api/v1/users/{userId}/crm-owners/{provider}", "Crm_DeleteOwner", "Remove a user's CRM owner mapping"),
        new("GET", "/api/v1/infusionsoft/authorize", "Crm_InfusionsoftAuthorize", "Start connecting Keap (Infusionsoft)"),
        new("GET", "/api/v1/infusionsoft/callback", "Crm_InfusionsoftCallback", "Finish connecting Keap (Infusionsoft) (OAuth redirect)"),
        new("GET", "/api/v1/payments/paypal", "Payments_GetPayPalAccount", "Get the organization's PayPal account"),
        new("PUT", "/api/v1/payments/paypal", "Payments_PutPayPalAccount", "Set the organization's PayPal credentials"),
        new("DELETE", "/api/v1/payments/paypal", "Payments_DeletePayPalAccount", "Remove the organization's PayPal account"),
        new("GET", "/api/v1/bookings/{id}/payment", "Payments_GetBookingPayment", "Get a booking's payment (public)"),
        new("POST", "/api/v1/bookings/{id}/payment/capture", "Payments_Capture", "Capture an approved payment (public)"),
        new("POST", "/api/v1/bookings/{id}/refund", "Payments_Refund", "Refund a booking's payment"),
        new("POST", "/api/v1/conferencing-accounts", "ConferencingAccounts_Create", "Connect a conferencing account"),
        new("GET", "/api/v1/conferencing-accounts", "ConferencingAccounts_List", "List conferencing accounts"),
        new("GET", "/api/v1/conferencing-accounts/{id}", "ConferencingAccounts_Get", "Get a conferencing account"),
        new("PUT", "/api/v1/conferencing-accounts/{id}", "ConferencingAccounts_Update", "Update a conferencing account's tokens"),
        new("DELETE", "/api/v1/conferencing-accounts/{id}", "ConferencingAccounts_Delete", "Disconnect a conferencing account"),
        new("GET", "/api/v1/bookings/{id}/reassignment-targets", "Reassignment_ListTargets", "List the pages a booking could be reassigned to"),
        new("POST", "/api/v1/bookings/{id}/reassign", "Reassignment_Reassign", "Reassign a booking to another page and host"),
        new("GET", "/api/v1/spaces", "Spaces_List", "List spaces"),
        new("POST", "/api/v1/spaces", "Spaces_Create", "Create a space"),
        new("GET", "/api/v1/spaces/timeline", "Spaces_GetTimeline", "Get one day's space timeline"),
        new("GET", "/api/v1/spaces/requests", "SpaceRequests_List", "List space requests"),
        new("POST", "/api/v1/spaces/requests", "SpaceRequests_Create", "Request one or more spaces"),
        new("GET", "/api/v1/spaces/requests/{id}", "SpaceRequests_Get", "Get a space request"),
        new("GET", "/api/v1/spaces/requests/{id}/conflicts", "SpaceRequests_GetConflicts", "Get what a space request conflicts with"),
        new("POST", "/api/v1/spaces/requests/{id}/{action}", "SpaceRequests_Act", "Approve, decline or cancel a space request"),
        new("GET", "/api/v1/spaces/{id}", "Spaces_Get", "Get a space"),
        new("PUT", "/api/v1/spaces/{id}", "Spaces_Update", "Update a space"),
        new("DELETE", "/api/v1/spaces/{id}", "Spaces_Delete", "Delete a space"),
        new("GET", "/api/v1/booking-pages/{id}/space-pool", "SpacePools_Get", "Get a page's space pool"),
        new("PUT", "/api/v1/booking-pages/{id}/space-pool", "SpacePools_Put", "Set a page's space pool"),
        new("DELETE", "/api/v1/booking-pages/{id}/space-pool", "SpacePools_Delete", "Remove a page's space pool"),
        new("GET", "/api/v1/outbox/messages", "Outbox_ListMessages", "List outbox messages"),
        new("GET", "/api/v1/outbox/messages/{id}", "Outbox_GetMessage", "Get an outbox message"),
        new("POST", "/api/v1/outbox/messages/{id}/replay", "Outbox_ReplayMessage", "Replay a dead outbox message"),
        new("POST", "/api/v1/outbox/replay", "Outbox_ReplayType", "Replay every dead outbox message of a type"),
        new("GET", "/api/v1/spaces/{spaceId}/channel", "SpaceChannels_Get", "Get a space's invitation channel"),
        new("PUT", "/api/v1/spaces/{spaceId}/channel", "SpaceChannels_Put", "Set a space's invitation channel"),
        new("DELETE", "/api/v1/spaces/{spaceId}/channel", "SpaceChannels_Delete", "Remove a space's invitation channel"),
    ];

    private static readonly Dictionary<string, ApiOperation> _byRoute =
        All.ToDictionary(o => Key(o.Method, o.Path), StringComparer.OrdinalIgnoreCase);

    /// <summary>The entry for a method and route (constraints such as <c>{id:guid}</c> are ignored), or null.</summary>
    public static ApiOperation? Find(string method, string route) =>
        _byRoute.GetValueOrDefault(Key(method, NormalizeRoute(route)));

    /// <summary>"/api/v1/spaces/{spaceId:guid}/channel/" and "api/v1/spaces/{spaceId}/channel" are the same route.</summary>
    public static string NormalizeRoute(string route)
    {
        var trimmed = "/" + route.Trim('/');
        return System.Text.RegularExpressions.Regex.Replace(
            trimmed, @"\{([^}:?=]+)[^}]*\}", "{$1}", System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromSeconds(1));
    }

    internal static string AreaOf(string id)
    {
        var prefix = id[..id.IndexOf('_', StringComparison.Ordinal)];
        return id switch
        {
            "Automations_ListBookingRuns" or "Payments_GetBookingPayment" or "Payments_Capture" or "Payments_Refund" => "bookings",
            "Crm_ListOwners" or "Crm_PutOwner" or "Crm_DeleteOwner" => "users",
            _ when id.StartsWith("Crm_", StringComparison.Ordinal) && (id.EndsWith("Salesforce", StringComparison.Ordinal)
                || id.EndsWith("Infusionsoft", StringComparison.Ordinal) || id == "Crm_CreateSalesforceFields") => "pages",
            _ => prefix switch
            {
                "Bookings" or "Reassignment" or "PublicBooking" or "SelfService" => "bookings",
                "BookingPages" or "SpacePools" or "RoutingForms" or "Routing" => "pages",
                "Users" or "BusyBlocks" => "users",
                "CalendarConnections" => "calendars",
                "Webhooks" => "webhooks",
                _ => "admin",
            },
        };
    }

    private static string Key(string method, string path) => method.ToUpperInvariant() + " " + path;
}
