using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Integrations;
using Rendezvous.Integrations.Crm.Infusionsoft;
using Rendezvous.Integrations.Crm.Salesforce;
using Rendezvous.Server.Features.BookingPages;
using Rendezvous.Server.Features.Crm;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App.BookingPages;

/// <summary>
/// A booking page's CRM connections (Salesforce and Keap): connect through the CRM's consent screen, the settings
/// (Salesforce: whether to create Activity Events and Leads, the lead source; Keap: the tag of each stage), the health,
/// and disconnect. Every change goes through the API's own handlers (<see cref="CrmEndpoints"/>), with the same checks.
/// </summary>
public sealed class CrmModel(RendezvousDbContext db, SalesforceClient salesforce, KeapClient keap, IntegrationSecrets secrets, IClock clock)
    : StaffPageModel
{
    public string PageId { get; private set; } = "";

    public string PageTitle { get; private set; } = "";

    public SalesforceConnectionResponse Salesforce { get; private set; } = null!;

    public InfusionsoftConnectionResponse Keap { get; private set; } = null!;

    public bool SalesforceConfigured => salesforce.IsConfigured;

    public bool KeapConfigured => keap.IsConfigured;

    public async Task<IActionResult> OnGetAsync(string id, string? connect, string? outcome, CancellationToken ct)
    {
        if (!await LoadAsync(id, ct))
        {
            return Missing("Booking page not found", "There is no booking page with this id that you may change.");
        }

        // Back from the CRM's consent screen (the callback names only a provider and an outcome code, never free text):
        // the outcome is said once, and the address loses its query so a reload does not say it again.
        if (connect is CrmConnection.Salesforce or CrmConnection.Infusionsoft && outcome is not null)
        {
            var name = connect == CrmConnection.Salesforce ? "Salesforce" : "Keap";
            if (outcome == CrmEndpoints.WebOutcomes.Connected)
            {
                Flash($"{name} is connected to this page.");
            }
            else
            {
                TempData["FlashError"] = outcome switch
                {
                    CrmEndpoints.WebOutcomes.Denied => $"{name} did not authorize the connection, so nothing is connected.",
                    CrmEndpoints.WebOutcomes.Unavailable => $"{name} could not be reached to finish the connection; try again in a moment.",
                    CrmEndpoints.WebOutcomes.Expired => $"The connection request expired or was already used; connect {name} again.",
                    _ => $"{name} refused to finish the connection; connect it again.",
                };
            }

            return Go(Here(id));
        }

        return Page();
    }

    public async Task<IActionResult> OnPostSalesforceAsync(string id, bool createActivityEvents, bool createLeads, string? leadSource, CancellationToken ct)
    {
        var result = (await CrmEndpoints.PutSalesforceAsync(id, new SalesforceSettingsRequest(createActivityEvents, createLeads,
            string.IsNullOrWhiteSpace(leadSource) ? null : leadSource), db, clock, HttpContext, ct)).Result;
        return await AfterAsync(id, result, "The Salesforce settings are saved.", f => f == "leadSource" ? "leadSource" : f, ct);
    }

    public async Task<IActionResult> OnPostKeapAsync(string id, [FromForm] Dictionary<string, string?> tag, CancellationToken ct)
    {
        var tags = new Dictionary<string, long?>(StringComparer.Ordinal);
        foreach (var stage in KeapStages.DefaultTagNames.Keys)
        {
            var text = tag.GetValueOrDefault(stage)?.Trim();
            if (string.IsNullOrEmpty(text))
            {
                tags[stage] = null;
            }
            else if (long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value))
            {
                tags[stage] = value;
            }
            else
            {
                Errors.Add($"tagIds.{stage}", "must be a Keap tag id (a positive number), or empty for the default tag");
            }
        }

        if (Errors.Any)
        {
            return await LoadAsync(id, ct) ? Page() : NotFound();
        }

        var result = (await CrmEndpoints.PutInfusionsoftAsync(id, new InfusionsoftSettingsRequest(tags), db, clock, HttpContext, ct)).Result;
        return await AfterAsync(id, result, "The Keap tags are saved.", null, ct);
    }

    public Task<IActionResult> OnPostConnectSalesforceAsync(string id, CancellationToken ct) =>
        ConnectAsync(id, CrmConnection.Salesforce, salesforce.IsConfigured, salesforce.AuthorizeUrl, ct);

    public Task<IActionResult> OnPostConnectKeapAsync(string id, CancellationToken ct) =>
        ConnectAsync(id, CrmConnection.Infusionsoft, keap.IsConfigured, keap.AuthorizeUrl, ct);

    public async Task<IActionResult> OnPostDisconnectAsync(string id, string? provider, CancellationToken ct)
    {
        if (provider is not (CrmConnection.Salesforce or CrmConnection.Infusionsoft))
        {
            return Go(Here(id));
        }

        var result = (await CrmEndpoints.DisconnectAsync(id, provider, db, HttpContext, ct)).Result;
        return await AfterAsync(id, result, provider == CrmConnection.Salesforce ? "Salesforce is disconnected from this page." : "Keap is disconnected from this page.", null, ct);
    }

    /// <summary>
    /// Off to the CRM's consent screen; it comes back to the API's callback, which stores the connection and, because
    /// the state says the web app started it, sends the browser back here with the outcome.
    /// </summary>
    private async Task<IActionResult> ConnectAsync(string id, string provider, bool configured, Func<string, string> authorizeUrl, CancellationToken ct)
    {
        var result = (await CrmEndpoints.AuthorizeAsync(id, provider, configured, authorizeUrl, db, secrets, clock, HttpContext, ct, fromWeb: true)).Result;
        if (EndpointReplies.ValueOf<AuthorizeResponse>(result) is { } authorize)
        {
            return Redirect(authorize.Url);
        }

        TempData["FlashError"] = EndpointReplies.ProblemOf(result)?.Detail ?? "The connection could not be started.";
        return Go(Here(id));
    }

    private async Task<IActionResult> AfterAsync(string id, IResult result, string done, Func<string, string>? map, CancellationToken ct)
    {
        if (EndpointReplies.ProblemOf(result) is not { } problem)
        {
            Flash(done);
            return Go(Here(id));
        }

        if (problem.Status == StatusCodes.Status404NotFound || problem.Status == StatusCodes.Status403Forbidden || !await LoadAsync(id, ct))
        {
            return Missing("Booking page not found", "There is no booking page with this id that you may change.");
        }

        Errors.AddTo(problem, map);
        return Page();
    }

    private static string Here(string id) => $"/app/pages/{id}/crm";

    private async Task<bool> LoadAsync(string id, CancellationToken ct)
    {
        ViewData["Title"] = "CRM";
        ViewData["Nav"] = "pages";
        Errors.Labels["leadSource"] = "The lead source";
        foreach (var stage in KeapStages.DefaultTagNames.Keys)
        {
            Errors.Labels[$"tagIds.{stage}"] = $"The tag for {stage}";
        }

        var sf = EndpointReplies.ValueOf<SalesforceConnectionResponse>((await CrmEndpoints.GetSalesforceAsync(id, db, HttpContext, ct)).Result);
        var kp = EndpointReplies.ValueOf<InfusionsoftConnectionResponse>((await CrmEndpoints.GetInfusionsoftAsync(id, db, HttpContext, ct)).Result);
        if (sf is null || kp is null)
        {
            return false;
        }

        var page = await BookingPagesEndpoints.FindAsync(db, id, ct);
        PageId = id;
        PageTitle = page?.Title ?? "";
        ViewData["Title"] = $"CRM · {PageTitle}";
        Salesforce = sf;
        Keap = kp;
        return true;
    }
}
