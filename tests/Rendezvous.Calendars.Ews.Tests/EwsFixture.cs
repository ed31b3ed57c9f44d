using NodaTime;
using Rendezvous.Calendars.Providers;
using Rendezvous.Calendars.Sync;
using Rendezvous.Domain;
using Rendezvous.Domain.Calendars;
using Rendezvous.Emulators.Ews;

namespace Rendezvous.Calendars.Ews.Tests;

/// <summary>One emulator and one provider per test (each test makes its own mailbox state).</summary>
public abstract class EwsTestBase : IAsyncLifetime
{
    protected static readonly Instant Monday = Instant.FromUtc(2027, 1, 4, 0, 0);

    protected EwsEmulator Exchange { get; private set; } = null!;

    protected EmulatedMailbox Alice { get; private set; } = null!;

    protected EwsOptions Options { get; } = new()
    {
        RetryBaseDelay = TimeSpan.FromMilliseconds(10),
        MaxRetryDelay = TimeSpan.FromSeconds(2),
        RequestTimeout = TimeSpan.FromSeconds(10),
    };

    protected EwsCalendarProvider Provider { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Exchange = await EwsEmulator.StartAsync();
        Alice = Exchange.AddMailbox("alice@contoso.test", "alice-password");
        Options.AllowedHttpHosts.Add("127.0.0.1");
        Provider = new EwsCalendarProvider(new SocketsHttpHandler(), Options);
    }

    public async Task DisposeAsync()
    {
        Provider.Dispose();
        await Exchange.DisposeAsync();
    }

    protected CalendarAccount Account(string user = "alice@contoso.test", string password = "alice-password", EwsAccountState? state = null) =>
        new(Guid.NewGuid(), CalendarProvider.Exchange, Exchange.EwsUrl.ToString(), user, password, (state ?? EwsAccountState.Default).Write());

    protected ICalendarSession Open(EwsAccountState? state = null) => Provider.Open(Account(state: state));

    protected static ChangeQuery Query(string? cursor, IReadOnlyDictionary<string, string?>? known = null) =>
        new(cursor, known ?? new Dictionary<string, string?>(), Monday, Monday + Duration.FromDays(14), DateTimeZone.Utc);

    protected static DateTimeOffset At(int day, int hour) => new(2027, 1, day, hour, 0, 0, TimeSpan.Zero);

    protected static BookingEventContent Booking(BookingId id, Instant start, int sequence = 0) => new(
        id, "Intro call", "Notes\nline two", "https://meet.example.test/abc", start, start + Duration.FromMinutes(30), false,
        "Alice", "alice@contoso.test", "Carol Customer", "carol@example.test", sequence, start);
}
