using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rendezvous.Data;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Security;

/// <summary>
/// Tenant scoping fails closed, and every way around it is on a reviewed list. A new <c>AcrossTenants()</c> or raw SQL
/// site fails <see cref="Every_cross_tenant_and_raw_sql_site_is_on_the_reviewed_list"/> until it is added below, by
/// someone who checked that it scopes its reads itself (by id, a signed token, a claimed job) and never returns another
/// organization's rows to a caller.
/// </summary>
public sealed partial class TenantScopeAuditTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    /// <summary>Files with <c>.AcrossTenants()</c> or <c>.ForAllTenants()</c>, and how many.</summary>
    private static readonly Dictionary<string, int> CrossTenantSites = new()
    {
            ["src/Rendezvous.Data/Outbox/OutboxBatch.cs"] = 2,
            ["src/Rendezvous.Integrations/Conferencing/ConferencingHandler.cs"] = 2,
            ["src/Rendezvous.Integrations/Conferencing/ConferencingTokens.cs"] = 1,
            ["src/Rendezvous.Integrations/Crm/CrmEvent.cs"] = 1,
            ["src/Rendezvous.Integrations/Crm/CrmOwners.cs"] = 2,
            ["src/Rendezvous.Integrations/Crm/Infusionsoft/KeapOutboxHandler.cs"] = 4,
            ["src/Rendezvous.Integrations/Crm/Salesforce/SalesforceOutboxHandler.cs"] = 5,
            ["src/Rendezvous.Integrations/Notifications/BookingNotifier.Batch.cs"] = 4,
            ["src/Rendezvous.Integrations/Notifications/BookingNotifier.cs"] = 4,
            ["src/Rendezvous.Integrations/Payments/PaymentService.cs"] = 4,
            ["src/Rendezvous.Integrations/Webhooks/WebhookOutboxHandler.cs"] = 5,
            ["src/Rendezvous.Server/Cli/Startup.cs"] = 2,
            ["src/Rendezvous.Server/Features/Automations/AutomationActions.cs"] = 10,
            ["src/Rendezvous.Server/Features/Automations/AutomationPlanner.cs"] = 2,
            // The claimed run's booking, read again when the run ends to describe it in the outcome's webhook event.
            ["src/Rendezvous.Server/Features/Automations/AutomationRunner.cs"] = 3,
            ["src/Rendezvous.Server/Features/Availability/AvailabilityService.cs"] = 1,
            ["src/Rendezvous.Server/Features/BookingPages/BookingPageCache.cs"] = 1,
            ["src/Rendezvous.Server/Features/BookingPages/BookingPagesEndpoints.cs"] = 1,
            ["src/Rendezvous.Server/Features/Bookings/BookingService.cs"] = 2,
            ["src/Rendezvous.Server/Features/CalendarConnections/CalendarConnectionsEndpoints.cs"] = 2,
            ["src/Rendezvous.Server/Features/CalendarSync/CalendarSyncEngine.cs"] = 3,
            ["src/Rendezvous.Server/Features/CalendarSync/CalendarWriter.cs"] = 8,
            ["src/Rendezvous.Server/Features/CalendarSync/Exchange/ExchangeCalendars.cs"] = 1,
            ["src/Rendezvous.Server/Features/CalendarSync/Microsoft/MicrosoftCalendars.cs"] = 1,
            ["src/Rendezvous.Server/Features/Crm/CrmEndpoints.cs"] = 3,
            ["src/Rendezvous.Server/Features/Payments/PaymentsEndpoints.cs"] = 1,
            ["src/Rendezvous.Server/Features/Portal/PortalEndpoints.cs"] = 1,
            // A routing form's slug is unique across organizations (checked on save) and the public route finds it by slug.
            ["src/Rendezvous.Server/Features/Routing/RoutingForms.cs"] = 2,
            ["src/Rendezvous.Server/Features/Reminders/ReminderPlanner.cs"] = 1,
            ["src/Rendezvous.Server/Features/Reminders/ReminderSender.cs"] = 6,
            ["src/Rendezvous.Server/Features/SelfService/SelfServiceEndpoints.cs"] = 1,
            ["src/Rendezvous.Server/Features/Spaces/Channels/SpaceAnswerHandler.cs"] = 5,
            ["src/Rendezvous.Server/Features/Spaces/Channels/SpaceChannelPoller.cs"] = 1,
            ["src/Rendezvous.Server/Features/Spaces/Channels/SpaceInvitationIntake.cs"] = 2,
            ["src/Rendezvous.Server/Features/Spaces/SpaceBookingHandler.cs"] = 6,
            ["src/Rendezvous.Server/Features/Spaces/SpaceCalendarHandler.cs"] = 4,
            ["src/Rendezvous.Server/Features/Spaces/SpacePools.cs"] = 14,
            ["src/Rendezvous.Server/Features/Spaces/SpaceService.cs"] = 11,
            ["src/Rendezvous.Server/Features/StaffAuth/StaffAccounts.cs"] = 2,
            ["src/Rendezvous.Server/Features/StaffAuth/StaffCookie.cs"] = 1,
            ["src/Rendezvous.Server/Features/Web/PublicPages.cs"] = 1,
            // The key's user and an OAuth token's user, found by the key's hash or the token's subject before any tenant is known.
            ["src/Rendezvous.Server/Infrastructure/ApiKeyAuthentication.cs"] = 2,
            // The user of a redeemed code or refresh token, named by the token itself (OpenIddict validated it).
            ["src/Rendezvous.Server/Features/OAuth/OAuthSetup.cs"] = 1,
            ["src/Rendezvous.Server/Workers/BookingCompleter.cs"] = 1,
    };

    /// <summary>Files with raw SQL (ExecuteSql*, FromSql*, SqlQuery*, NpgsqlCommand, CreateCommand, NpgsqlBatch), and how many.</summary>
    private static readonly Dictionary<string, int> RawSqlSites = new()
    {
            ["src/Rendezvous.Data/AdvisoryLocks.cs"] = 1,
            ["src/Rendezvous.Data/DataProtectionKeyStore.cs"] = 4,
            ["src/Rendezvous.Data/Outbox/OutboxProcessor.cs"] = 4,
            ["src/Rendezvous.Integrations/Conferencing/ConferencingTokens.cs"] = 1,
            ["src/Rendezvous.Integrations/Crm/CrmEvent.cs"] = 1,
            ["src/Rendezvous.Integrations/Crm/CrmTokens.cs"] = 1,
            ["src/Rendezvous.Integrations/Crm/Infusionsoft/KeapOutboxHandler.cs"] = 3,
            ["src/Rendezvous.Integrations/Crm/Salesforce/SalesforceOutboxHandler.cs"] = 3,
            ["src/Rendezvous.Integrations/Notifications/EmailLog.cs"] = 6,
            ["src/Rendezvous.Integrations/Notifications/EmailOverrides.cs"] = 2,
            ["src/Rendezvous.Integrations/Notifications/Templates/EmailTemplateStore.cs"] = 3,
            ["src/Rendezvous.Integrations/OAuth/OAuthTokenStore.cs"] = 3,
            ["src/Rendezvous.Integrations/Payments/PaymentService.cs"] = 7,
            ["src/Rendezvous.Integrations/Webhooks/WebhookDispatcher.cs"] = 6,
            ["src/Rendezvous.Integrations/Webhooks/WebhookOutboxHandler.cs"] = 1,
            ["src/Rendezvous.Server/Features/Automations/AutomationPlanner.cs"] = 1,
            ["src/Rendezvous.Server/Features/Automations/AutomationRunner.cs"] = 2,
            ["src/Rendezvous.Server/Features/Automations/AutomationStore.cs"] = 3,
            ["src/Rendezvous.Server/Features/Availability/AvailabilityService.cs"] = 1,
            ["src/Rendezvous.Server/Features/CalendarSync/CalendarPush.cs"] = 3,
            ["src/Rendezvous.Server/Features/CalendarSync/CalendarSyncEngine.cs"] = 4,
            ["src/Rendezvous.Server/Features/CalendarSync/CalendarSyncWorker.cs"] = 1,
            // The organization's own row, by the signed-in administrator's or the public page's organization id.
            ["src/Rendezvous.Server/Features/Embeds/EmbedSettings.cs"] = 1,
            ["src/Rendezvous.Server/Features/Portal/PortalAccess.cs"] = 7,
            ["src/Rendezvous.Server/Features/Portal/PortalEndpoints.cs"] = 3,
            ["src/Rendezvous.Server/Features/Reassignment/ReassignmentService.cs"] = 1,
            ["src/Rendezvous.Server/Features/Reminders/ReminderPlanner.cs"] = 3,
            ["src/Rendezvous.Server/Features/Reminders/ReminderSender.cs"] = 5,
            ["src/Rendezvous.Server/Features/Security/SignInThrottle.cs"] = 2,
            ["src/Rendezvous.Server/Features/Spaces/Channels/SpaceChannelWorker.cs"] = 1,
            ["src/Rendezvous.Server/Features/StaffAuth/StaffAccounts.cs"] = 2,
    };

    /// <summary>
    /// Files that use OpenIddict's stores (decision 0032). Its tables are global, not tenant-filtered: each site scopes
    /// itself, and the counts keep a new one from slipping in unreviewed.
    /// </summary>
    private static readonly Dictionary<string, int> OAuthStoreSites = new()
    {
            // Applications by client id, checked against the signed-in user's organization; grants made for that user.
            ["src/Rendezvous.Server/Pages/App/Authorize.cshtml.cs"] = 2,
            // A user's own grants (by subject); the administrator's list filtered to their organization; revoking and
            // removing only what belongs to the user or organization.
            ["src/Rendezvous.Server/Pages/App/ConnectedApps.cshtml.cs"] = 3,
            // The organization property of an application the caller already holds.
            ["src/Rendezvous.Server/Features/OAuth/OAuthSetup.cs"] = 1,
    };

    [Fact]
    public void Every_use_of_the_global_oauth_stores_is_on_the_reviewed_list()
    {
        var root = RepositoryRoot();
        var problems = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(root, "src"), "*.cs", SearchOption.AllDirectories)
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            Compare(relative, OAuthStorePattern().Matches(File.ReadAllText(file)).Count, OAuthStoreSites, "OAuth store", problems);
        }

        problems.ShouldBeEmpty();
    }

    [Fact]
    public void Every_cross_tenant_and_raw_sql_site_is_on_the_reviewed_list()
    {
        var root = RepositoryRoot();
        var files = Directory.EnumerateFiles(Path.Combine(root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !f.Contains($"{Path.DirectorySeparatorChar}Migrations{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !f.EndsWith("TenantScope.cs", StringComparison.Ordinal))
            .ToList();
        var problems = new List<string>();
        foreach (var file in files)
        {
            var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            var text = File.ReadAllText(file);
            if (text.Contains("IgnoreQueryFilters(", StringComparison.Ordinal))
            {
                problems.Add($"{relative}: use .AcrossTenants() (TenantScope), not IgnoreQueryFilters()");
            }

            Compare(relative, CrossTenantPattern().Matches(text).Count, CrossTenantSites, "cross-tenant", problems);
            Compare(relative, RawSqlPattern().Matches(text).Count, RawSqlSites, "raw SQL", problems);
        }

        problems.ShouldBeEmpty();
    }

    [DbFact]
    public async Task Tenant_data_reads_as_empty_when_no_organization_is_set()
    {
        var admin = app.Client();
        await Scenario.CreatePageAsync(admin);
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
        db.TenantId.ShouldBeNull();
        (await db.BookingPages.CountAsync()).ShouldBe(0);
        (await db.Users.CountAsync()).ShouldBe(0);

        var acme = (await db.Organizations.SingleAsync(o => o.Slug == "acme")).Id;
        db.TenantId = acme;
        (await db.BookingPages.CountAsync()).ShouldBeGreaterThan(0);
        (await db.BookingPages.AcrossTenants().CountAsync()).ShouldBeGreaterThan(0);
    }

    [DbFact]
    public async Task Another_organizations_rows_stay_hidden_when_an_organization_is_set()
    {
        var otherKey = await app.CreateOrganizationAsync("globex-" + Guid.NewGuid().ToString("N")[..8]);
        await Scenario.CreatePageAsync(app.Client(otherKey));
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
        db.TenantId = (await db.Organizations.SingleAsync(o => o.Slug == "acme")).Id;
        (await db.BookingPages.AllAsync(p => p.OrganizationId == db.TenantId)).ShouldBeTrue();
        (await db.BookingPages.AcrossTenants().AnyAsync(p => p.OrganizationId != db.TenantId)).ShouldBeTrue();
    }

    private static void Compare(string file, int found, Dictionary<string, int> allowed, string what, List<string> problems)
    {
        var expected = allowed.GetValueOrDefault(file);
        if (found != expected)
        {
            problems.Add($"{file}: {found} {what} site(s), the reviewed list says {expected}; review the change and update the list in TenantScopeAuditTests");
        }
    }

    private static string RepositoryRoot()
    {
        if (Environment.GetEnvironmentVariable("RENDEZVOUS_REPO_ROOT") is { Length: > 0 } root && File.Exists(Path.Combine(root, "Rendezvous.slnx")))
        {
            return root;
        }

        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Rendezvous.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("The repository root was not found.");
    }

    [GeneratedRegex(@"IOpenIddict(Application|Authorization|Token|Scope)Manager\b")]
    private static partial Regex OAuthStorePattern();

    [GeneratedRegex(@"\.AcrossTenants\(\)|\.ForAllTenants\(\)")]
    private static partial Regex CrossTenantPattern();

    [GeneratedRegex(@"ExecuteSql\w*\(|FromSql\w*\(|SqlQuery\w*\(|new NpgsqlCommand\(|\.CreateCommand\(|NpgsqlBatch\(")]
    private static partial Regex RawSqlPattern();
}
