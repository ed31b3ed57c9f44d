using Rendezvous.Server.Features.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Json;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Data.Outbox;
using Rendezvous.Data.Serialization;
using Rendezvous.Integrations.Conferencing;
using Rendezvous.Integrations.Crm;
using Rendezvous.Integrations.Notifications.Templates;
using Rendezvous.Integrations.Payments;
using Rendezvous.Integrations.Webhooks;
using Rendezvous.Integrations.Outbound;
using Rendezvous.Server.Cli;
using Rendezvous.Server.Features.Availability;
using Rendezvous.Server.Features.BookingPages;
using Rendezvous.Server.Features.Bookings;
using Rendezvous.Server.Features.Spaces;
using Rendezvous.Server.Features.CalendarConnections;
using Rendezvous.Server.Features.CalendarSync;
using Rendezvous.Server.Features.CalendarSync.Microsoft;
using Rendezvous.Server.Features.Crm;
using Rendezvous.Server.Features.Conferencing;
using Rendezvous.Server.Features.Reassignment;
using Rendezvous.Integrations.Notifications;
using Rendezvous.Server.Features.Payments;
using Rendezvous.Server.Features.Reminders;
using Rendezvous.Server.Features.SelfService;
using Rendezvous.Server.Features.StaffAuth;
using Rendezvous.Server.Features.Web;
using Rendezvous.Server.Features.Portal;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Rendezvous.Server.Features.Notifications.Templates;
using Rendezvous.Server.Features.OAuth;
using Rendezvous.Server.Features.Users;
using Rendezvous.Server.Features.Webhooks;
using Rendezvous.Server.Infrastructure;
using Rendezvous.Server.Infrastructure.OpenApi;
using Scalar.AspNetCore;
using Rendezvous.Server.Workers;

// Verbs: (none) or "serve" runs the server; "migrate" applies migrations and exits.
var verb = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : "serve";
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args.Length > 0 && !args[0].StartsWith('-') ? args[1..] : args,
    WebRootPath = WebAssets.LocateWebRoot(),
});

// Started from another folder (say, by a script), still read the settings shipped next to the binary.
if (!File.Exists(Path.Combine(builder.Environment.ContentRootPath, "appsettings.json")))
{
    // Lowest precedence, as the file would have had: environment variables and arguments still win.
    var shipped = new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
    {
        Path = Path.Combine(AppContext.BaseDirectory, "appsettings.json"),
        Optional = true,
    };
    shipped.ResolveFileProvider();
    ((IList<IConfigurationSource>)builder.Configuration.Sources).Insert(0, shipped);
}

var connectionString = builder.Configuration.GetConnectionString("Rendezvous")
    ?? Environment.GetEnvironmentVariable("RENDEZVOUS_DB")
    ?? throw new InvalidOperationException("Set RENDEZVOUS_DB (or ConnectionStrings__Rendezvous) to a PostgreSQL connection string.");
if (Environment.GetEnvironmentVariable("RENDEZVOUS_URL") is { Length: > 0 } url)
{
    builder.WebHost.UseUrls(url);
}

// The composition root is the only place that names the system clock.
#pragma warning disable RS0030
builder.Services.AddSingleton<IClock>(SystemClock.Instance);
#pragma warning restore RS0030

builder.Services.AddRendezvousData(connectionString);
builder.AddRendezvousObservability();
// How long a booking keeps retrying while the database fails over (decision 0029).
builder.Services.Configure<Rendezvous.Data.Failover.FailoverRetryOptions>(builder.Configuration.GetSection("Rendezvous:Database:FailoverRetry"));
builder.Services.Configure<BootstrapOptions>(builder.Configuration.GetSection("Rendezvous:Bootstrap"));
builder.Services.Configure<WorkerOptions>(builder.Configuration.GetSection("Rendezvous:Workers"));
builder.Services.Configure<JsonOptions>(o => JsonDefaults.Configure(o.SerializerOptions));
builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
builder.Services.AddProblemDetails();
builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
builder.Services.AddRendezvousOpenApi();
builder.Services.AddAuthentication(ApiKeys.Scheme)
    .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeys.Scheme, null)
    .AddCookie(PortalEndpoints.Scheme, o =>
    {
        o.Cookie.Name = "rdv_portal";
        o.Cookie.HttpOnly = true;
        o.Cookie.SameSite = SameSiteMode.Lax;
        o.ExpireTimeSpan = TimeSpan.FromDays(14);
        o.SlidingExpiration = true;
        o.Events.OnRedirectToLogin = c => { c.Response.StatusCode = 401; return Task.CompletedTask; };
    })
    .AddStaffCookie();
builder.Services.TryAddSingleton<IPortalMailer, SmtpPortalMailer>();
builder.Services.AddAuthorizationBuilder()
    .SetFallbackPolicy(new AuthorizationPolicyBuilder(ApiKeys.Scheme).RequireAuthenticatedUser().Build())
    .AddPolicy(ApiKeys.AdministratorPolicy, p => p.RequireAuthenticatedUser().RequireRole("administrator"))
    .AddStaffPolicies();
builder.Services.AddScoped<StaffAccounts>();
builder.Services.Configure<Rendezvous.Server.Features.Security.SignInThrottleOptions>(builder.Configuration.GetSection("Rendezvous:SignIn"));
builder.Services.AddScoped<Rendezvous.Server.Features.Security.SignInThrottle>();
builder.Services.AddRendezvousRateLimits(builder.Configuration);
builder.Services.AddRendezvousOAuth(builder.Configuration);
builder.Services.AddAdmission(builder.Configuration);
builder.Services.AddWebApplication();
builder.Services.AddRequestLanguages();

// One key ring for every server process, in the database, encrypted with Rendezvous:DataProtection:KeyEncryptionKey.
Rendezvous.Data.KeyEncryption.KeyRingProtection.AddRendezvousDataProtection(builder.Services, builder.Configuration);
builder.Services.AddScoped<AvailabilityService>();
builder.Services.AddSingleton<SelfServiceLinks>();
// Customer links in emails are the signed self-service links.
builder.Services.TryAddSingleton<ISelfServiceLinks>(sp => sp.GetRequiredService<SelfServiceLinks>());
builder.Services.AddScoped<SelfServiceService>();
builder.Services.AddScoped<Rendezvous.Server.Features.Portal.PortalAccessService>();
builder.Services.AddScoped<BookingService>();
builder.Services.AddScoped<Rendezvous.Server.Features.Routing.RoutingFormService>();
builder.Services.AddSingleton<BookingPageCache>();
builder.Services.AddScoped<WebhookSubscriptions>();
builder.Services.AddScoped<TeamMembers>();
builder.Services.AddScoped<BookingPageService>();
builder.Services.AddScoped<EmailTemplates>();
builder.Services.AddScoped<CalendarConnectionService>();
builder.Services.AddScoped<ReassignmentService>();
builder.Services.AddScoped<SpaceService>();
builder.Services.AddScoped<ISpaceInvitations>(sp => sp.GetRequiredService<SpaceService>());
builder.Services.AddScoped<SpaceAdministrationService>();
builder.Services.AddSingleton<IOutboxHandler, SpaceNotificationsHandler>();
builder.Services.AddSingleton<IOutboxHandler, SpaceBookingHandler>();
builder.Services.AddSingleton<IOutboxHandler, SpaceCalendarHandler>();
builder.Services.AddScoped<SpacePools>();
builder.Services.AddScoped<BookingCompletion>();
builder.Services.Configure<OutboxOptions>(builder.Configuration.GetSection("Rendezvous:Outbox"));
builder.Services.AddScoped<OutboxProcessor>();
builder.Services.AddScoped<Rendezvous.Server.Features.Outbox.OutboxAdministration>();
builder.Services.AddSingleton<OutboxSignal>();
builder.Services.AddHostedService<OutboxDispatcher>();
builder.Services.AddHostedService<BookingCompleter>();
builder.Services.Configure<CalendarSyncOptions>(builder.Configuration.GetSection("Rendezvous:CalendarSync"));
CalendarProviders.AddCalendarProviders(builder.Services);
Rendezvous.Server.Features.CalendarSync.Google.GoogleCalendarSetup.AddGoogleCalendar(builder.Services, builder.Configuration);
builder.Services.AddMicrosoftCalendars(builder.Configuration);
Rendezvous.Server.Features.CalendarSync.Exchange.ExchangeCalendars.AddExchangeCalendars(builder.Services, builder.Configuration);
builder.Services.AddScoped<CalendarSyncEngine>();
builder.Services.AddRendezvousIntegrations(builder.Configuration);
builder.Services.AddOutboundAddressPolicy(builder.Configuration);
builder.Services.AddSingleton<IOutboxHandler, CalendarWriter>();
builder.Services.AddHostedService<CalendarSyncWorker>();
Rendezvous.Server.Features.Spaces.Channels.SpaceChannelSetup.AddSpaceChannels(builder.Services, builder.Configuration);
builder.Services.Configure<ReminderOptions>(builder.Configuration.GetSection("Rendezvous:Reminders"));
builder.Services.AddSingleton<IOutboxHandler, ReminderPlanner>();
Rendezvous.Server.Features.Automations.AutomationsSetup.AddAutomations(builder.Services);
builder.Services.AddSingleton<Rendezvous.Server.Features.CalendarSync.CalendarMoveAlerts>();
builder.Services.AddSingleton<ReminderSender>();
builder.Services.AddHostedService<ReminderWorker>();
// One instance each, so tests can resolve a worker and drive it by hand while it idles.
builder.Services.AddSingleton<WebhookWorker>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<WebhookWorker>());
builder.Services.AddSingleton<PaymentsWorker>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<PaymentsWorker>());

var app = builder.Build();

if (verb == "migrate")
{
    await Startup.MigrateAsync(app.Services, CancellationToken.None);
    Console.WriteLine("Migrations applied.");
    return 0;
}

if (verb != "serve")
{
    await Console.Error.WriteLineAsync($"Unknown verb '{verb}'. Use 'serve' (default) or 'migrate'.");
    return 2;
}

if (app.Configuration.GetValue("Rendezvous:MigrateOnStart", true))
{
    await Startup.MigrateAsync(app.Services, CancellationToken.None);
}

// Before anything decrypts: a ring this process cannot read stops it here, with the reason, instead of a new key
// silently replacing the old one and every stored calendar password becoming unreadable.
Rendezvous.Data.KeyEncryption.KeyRingProtection.Prepare(app.Services, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Rendezvous.DataProtection"));

var bootstrap = app.Configuration.GetSection("Rendezvous:Bootstrap").Get<BootstrapOptions>() ?? new BootstrapOptions();
var bootstrapOrg = await Startup.BootstrapAsync(app.Services, bootstrap, CancellationToken.None);
if (bootstrapOrg is { } org && app.Configuration.GetValue("Rendezvous:Demo", false))
{
    await Startup.SeedDemoAsync(app.Services, org, CancellationToken.None);
}

app.UseExceptionHandler();
app.UseStatusCodePages();
// Before routing: /{organization}/{page} would otherwise claim /css/site.css, and static files skip matched endpoints.
app.UseWebAssets();
app.UseRouting();
// Deprecated operations say so in every answer (Deprecation and Sunset headers, docs/API.md).
app.UseApiDeprecation();
// The language of the public pages (the switcher's cookie, else Accept-Language); see RequestLanguages.
app.UseRequestLocalization();
app.UseRateLimiter();
// Before authentication: an API key or cookie holding NUL would otherwise reach the database too. Before the admission
// gate as well, so bad input is refused without waiting for a database slot.
app.UseInputTextFilter();
// A bounded wait before anything takes a database connection (authentication is the first that does).
app.UseAdmission();
app.UseAuthentication();
app.UseAuthorization();
// Per key (or app and user) request limits with RateLimit headers, then the scopes of keys and tokens.
app.UseApiRequestLimits();
app.UseApiScopes();

app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous().WithMetadata(SkipAdmissionAttribute.Instance);
// The API reference page over that document (docs/API.md).
app.MapScalarApiReference("/api/reference", o => o.WithTitle("Rendezvous API").WithOpenApiRoutePattern("/openapi/{documentName}.json"))
    .AllowAnonymous().ExcludeFromDescription().WithMetadata(SkipAdmissionAttribute.Instance);
app.MapGet("/health", () => TypedResults.Ok(new { status = "ok" })).AllowAnonymous().ExcludeFromDescription().WithMetadata(SkipAdmissionAttribute.Instance);
app.MapRendezvousObservability();

var api = app.MapGroup("/api/v1").WithCursorPaging();
// Each feature's routes belong to one area of the key and token scopes (read for GET/HEAD, write otherwise);
// ApiScopeCoverageTests fails when a route under /api/v1 has none.
api.MapGroup("").RequireScope(ApiScopes.Users).MapUsers();
api.MapGroup("").RequireScope(ApiScopes.Pages).MapBookingPages();
api.MapGroup("").NoScope().MapSlots();
api.MapGroup("").RequireScope(ApiScopes.Bookings).MapBookings();
api.MapGroup("").RequireScope(ApiScopes.Calendars).MapCalendarConnections();
api.MapGroup("").RequireScope(ApiScopes.Calendars).MapCalendarPush();
Rendezvous.Server.Features.CalendarSync.Google.GoogleConnectEndpoints.MapGoogleConnect(api.MapGroup("").RequireScope(ApiScopes.Calendars));
api.MapGroup("").RequireScope(ApiScopes.Calendars).MapMicrosoftCalendars();
api.MapGroup("").NoScope().MapSelfService();
api.MapGroup("").NoScope().MapPortal();
api.MapGroup("").RequireScope(ApiScopes.Admin).MapPortalAccess();
app.MapSelfServiceFiles();
app.MapWebApplication();
app.MapLanguageSwitch();
api.MapGroup("").RequireScope(ApiScopes.Webhooks).MapWebhooks();
Rendezvous.Server.Features.Routing.RoutingFormsEndpoints.MapRoutingForms(api.MapGroup("").RequireScope(ApiScopes.Pages));
Rendezvous.Server.Features.Automations.AutomationsEndpoints.MapAutomations(api.MapGroup("").RequireScope(ApiScopes.Admin));
api.MapGroup("").RequireScope(ApiScopes.Admin).MapEmailTemplates();
api.MapGroup("").RequireScope(ApiScopes.Admin).MapCrm();
api.MapGroup("").RequireScope(ApiScopes.Admin).MapPayments();
app.MapPaymentPages();
api.MapGroup("").RequireScope(ApiScopes.Calendars).MapConferencingAccounts();
Rendezvous.Server.Features.Embeds.EmbedSettingsEndpoints.MapEmbedSettings(api.MapGroup("").RequireScope(ApiScopes.Admin));
api.MapGroup("").RequireScope(ApiScopes.Bookings).MapReassignment();
api.MapGroup("").RequireScope(ApiScopes.Admin).MapSpaces();
Rendezvous.Server.Features.Outbox.OutboxEndpoints.MapOutbox(api.MapGroup("").RequireScope(ApiScopes.Admin));
Rendezvous.Server.Features.Spaces.Channels.SpaceChannelEndpoints.MapSpaceChannels(api.MapGroup("").RequireScope(ApiScopes.Admin));
app.MapOAuth();

await app.RunAsync();
return 0;

/// <summary>Exposed so the API tests can host the real application.</summary>
public partial class Program;
