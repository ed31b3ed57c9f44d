using Rendezvous.Calendars.CalDav;
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

    public bool Enabled { get; set; } = true;
}

/// <summary>Where the HTTP handler under every CalDAV client comes from (tests wrap it to misbehave on purpose).</summary>
public class CalendarHttpHandlerFactory
{
    public virtual HttpMessageHandler Create() => CalDavClient.CreateHttpMessageHandler();
}

/// <summary>Makes CalDAV clients for connections, sharing one connection pool per process.</summary>
public sealed class CalendarClients(Secrets secrets, Microsoft.Extensions.Options.IOptions<CalendarSyncOptions> options, CalendarHttpHandlerFactory handlers)
    : IDisposable
{
    private readonly HttpMessageHandler _handler = handlers.Create();

    public CalDavClient For(CalendarConnection connection)
    {
        var http = new HttpClient(_handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        return new CalDavClient(http, new CalDavClientOptions
        {
            ServerUri = new Uri(connection.ServerUrl),
            UserName = connection.Username,
            Password = secrets.UnprotectCalendarPassword(connection.ProtectedPassword),
            RequestTimeout = options.Value.RequestTimeout,
        });
    }

    /// <summary>The path of a stored absolute calendar URL, as CalDAV hrefs are written.</summary>
    public static string HrefOf(string url) => new Uri(url).AbsolutePath;

    public void Dispose() => _handler.Dispose();
}
