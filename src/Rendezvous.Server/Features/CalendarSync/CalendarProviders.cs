using Microsoft.Extensions.Options;
using Rendezvous.Calendars.CalDav;
using Rendezvous.Calendars.Providers;
using Rendezvous.Domain.Calendars;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.CalendarSync;

public sealed class CalendarSyncOptions
{
    /// <summary>How often each connection is looked at. One second keeps a change visible within two seconds.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Connections synced at the same time by one process.</summary>
    public int Parallelism { get; set; } = 8;

    /// <summary>A connection is claimed for this long; another process takes it over if this one dies.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Each calendar is listed in full again this often, so recurring busy time keeps reaching far enough ahead.</summary>
    public TimeSpan FullSyncInterval { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How far ahead recurring events are expanded into busy time.</summary>
    public int BusyHorizonDays { get; set; } = 400;

    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The server's public base URL (e.g. https://rendezvous.example.com/) where calendar services can reach
    /// <c>/api/v1/calendar-push/{provider}</c>. Without it no push subscriptions are made and polling alone finds changes.
    /// </summary>
    public Uri? PushBaseUrl { get; set; }

    /// <summary>A push subscription is renewed when it would expire within this time.</summary>
    public TimeSpan PushRenewBefore { get; set; } = TimeSpan.FromHours(12);

    public bool Enabled { get; set; } = true;
}

/// <summary>Where the HTTP handler under every CalDAV client comes from (tests wrap it to misbehave on purpose).</summary>
public class CalendarHttpHandlerFactory
{
    public virtual HttpMessageHandler Create() => CalDavClient.CreateHttpMessageHandler();
}

/// <summary>
/// The registered calendar providers (every <see cref="ICalendarProvider"/> singleton), and sessions for connections.
/// A connection whose <see cref="CalendarProvider"/> no registered provider serves is recorded but not synced.
/// </summary>
public sealed class CalendarProviders
{
    private readonly Dictionary<CalendarProvider, ICalendarProvider> _byKind = [];
    private readonly Secrets _secrets;

    public CalendarProviders(IEnumerable<ICalendarProvider> providers, Secrets secrets)
    {
        _secrets = secrets;
        foreach (var provider in providers)
        {
            foreach (var kind in provider.Providers)
            {
                _byKind.Add(kind, provider);
            }
        }
    }

    /// <summary>The connection providers that are synced (as stored in <c>calendar_connections.provider</c>).</summary>
    public IReadOnlyCollection<CalendarProvider> Synced => _byKind.Keys;

    public ICalendarProvider? Find(CalendarProvider kind) => _byKind.GetValueOrDefault(kind);

    /// <summary>The provider whose push endpoint is <c>/api/v1/calendar-push/{name}</c>.</summary>
    public ICalendarProvider? FindByName(string name) =>
        _byKind.Values.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>A session for a connection; null when its provider is not synced.</summary>
    public ICalendarSession? Open(CalendarConnection connection) =>
        Find(connection.Provider) is { } provider
            ? provider.Open(new CalendarAccount(connection.Id, connection.Provider, connection.ServerUrl, connection.Username,
                _secrets.UnprotectCalendarPassword(connection.ProtectedPassword), connection.ProviderState))
            : null;

    /// <summary>Keeps what the session changed about the account (a rotated token, the provider's state) on the connection.</summary>
    public void Keep(CalendarConnection connection, ICalendarSession session)
    {
        if (session.AccountUpdate is { } update)
        {
            connection.UpdateAccount(update.Secret is null ? null : _secrets.ProtectCalendarPassword(update.Secret), update.State);
        }
    }

    /// <summary>Registers the built-in providers; each further provider adds one <see cref="ICalendarProvider"/> singleton.</summary>
    public static void AddCalendarProviders(IServiceCollection services)
    {
        services.AddSingleton<CalendarHttpHandlerFactory>();
        services.AddSingleton<ICalendarProvider>(sp => new CalDavCalendarProvider(
            sp.GetRequiredService<CalendarHttpHandlerFactory>().Create(), sp.GetRequiredService<IOptions<CalendarSyncOptions>>().Value.RequestTimeout));
        services.AddSingleton<CalendarProviders>();
        services.AddSingleton<CalendarSyncWakeups>();
    }
}
