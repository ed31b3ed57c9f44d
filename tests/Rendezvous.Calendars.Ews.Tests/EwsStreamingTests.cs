namespace Rendezvous.Calendars.Ews.Tests;

public sealed class EwsStreamingTests : EwsTestBase
{
    /// <summary>Waits (bounded) until <paramref name="condition"/> holds; the bound is a hang guard, not an assertion.</summary>
    private static async Task Until(Func<bool> condition)
    {
        for (var i = 0; i < 400 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        condition().ShouldBeTrue();
    }

    [Fact]
    public async Task A_change_in_a_watched_calendar_arrives_as_a_streaming_notification()
    {
        var changes = 0;
        using var stop = new CancellationTokenSource();
        var watching = Provider.WatchAsync(Account(), [Alice.DefaultCalendar.Id], () => { Interlocked.Increment(ref changes); return Task.CompletedTask; }, stop.Token);
        await Until(() => Exchange.Requests.Any(r => r.StartsWith("GetStreamingEvents", StringComparison.Ordinal)) && Volatile.Read(ref changes) == 1);

        Alice.AddItem(Alice.DefaultCalendar.Id, "Dentist", At(5, 9), At(5, 10));

        await Until(() => Volatile.Read(ref changes) >= 2);
        Exchange.Requests.ShouldContain("Notification alice@contoso.test");
        await stop.CancelAsync();
        await watching;
    }

    [Fact]
    public async Task A_stream_that_ends_is_opened_again_and_a_forgotten_subscription_is_made_again()
    {
        Exchange.StreamingMinute = TimeSpan.FromMilliseconds(200);
        Options.StreamingConnectionMinutes = 1;
        using var stop = new CancellationTokenSource();
        var watching = Provider.WatchAsync(Account(), [Alice.DefaultCalendar.Id], () => Task.CompletedTask, stop.Token);

        await Until(() => Exchange.Requests.Count(r => r.StartsWith("GetStreamingEvents", StringComparison.Ordinal)) >= 3);
        Exchange.Details.Where(d => d.StartsWith("GetStreamingEvents", StringComparison.Ordinal)).ShouldNotBeEmpty();
        Exchange.DropSubscriptions();
        await Until(() => Exchange.Requests.Count(r => r.StartsWith("Subscribe", StringComparison.Ordinal)) >= 2);
        await stop.CancelAsync();
        await watching;
    }
}
