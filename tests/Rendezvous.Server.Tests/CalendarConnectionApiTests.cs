using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rendezvous.Server.Infrastructure;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests;

public sealed class CalendarConnectionApiTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    [DbFact]
    public async Task Connecting_a_calendar_keeps_the_password_encrypted_and_the_toggles_off()
    {
        var admin = app.Client();
        var userId = await Scenario.CreateUserAsync(admin, "Cal User");
        var created = await (await admin.PostJsonAsync("/api/v1/calendar-connections", new
        {
            userId,
            kind = "caldav",
            url = "http://127.0.0.1:5232/",
            username = "cal",
            password = "s3cret-app-password",
            bookingCalendarUrl = "/cal/bookings",
            additionalCalendarUrls = new[] { "http://127.0.0.1:5232/cal/family/", "/cal/bookings/" },
        })).ExpectAsync(201);

        created["bookingCalendarUrl"]!.GetValue<string>().ShouldBe("http://127.0.0.1:5232/cal/bookings/");
        created["additionalCalendarUrls"]!.AsArray().Select(x => x!.GetValue<string>()).ShouldBe(["http://127.0.0.1:5232/cal/family/"]);
        created["cancelBookingOnDelete"]!.GetValue<bool>().ShouldBeFalse();
        created["updateBookingOnMove"]!.GetValue<bool>().ShouldBeFalse();
        created["health"]!.GetValue<string>().ShouldBe("healthy");
        created.ToJsonString().ShouldNotContain("s3cret");
        created.AsObject().ContainsKey("password").ShouldBeFalse();

        var id = Guid.Parse(created["id"]!.GetValue<string>());
        var stored = await app.WithDbAsync(db => db.CalendarConnections.SingleAsync(c => c.Id == id));
        stored.ProtectedPassword.ShouldNotContain("s3cret");
        app.Services.GetRequiredService<Secrets>().UnprotectCalendarPassword(stored.ProtectedPassword).ShouldBe("s3cret-app-password");

        var updated = await (await admin.PutJsonAsync($"/api/v1/calendar-connections/{id}", new
        {
            url = "http://127.0.0.1:5232/",
            username = "cal",
            bookingCalendarUrl = "/cal/bookings/",
            cancelBookingOnDelete = true,
            updateBookingOnMove = true,
        })).ExpectAsync(200);
        updated["cancelBookingOnDelete"]!.GetValue<bool>().ShouldBeTrue();
        updated["updateBookingOnMove"]!.GetValue<bool>().ShouldBeTrue();
        var kept = await app.WithDbAsync(db => db.CalendarConnections.SingleAsync(c => c.Id == id));
        app.Services.GetRequiredService<Secrets>().UnprotectCalendarPassword(kept.ProtectedPassword).ShouldBe("s3cret-app-password");

        // The same account twice is refused; another account is a further connection (see the next test).
        (await (await admin.PostJsonAsync("/api/v1/calendar-connections", new { userId, url = "http://127.0.0.1:5232/", username = "cal", password = "y", bookingCalendarUrl = "/x/" })).ExpectAsync(409))
            ["code"]!.GetValue<string>().ShouldBe("already_connected");

        (await admin.DeleteAsync($"/api/v1/calendar-connections/{id}")).StatusCode.ShouldBe(System.Net.HttpStatusCode.NoContent);
        await (await admin.GetAsync($"/api/v1/calendar-connections/{id}")).ExpectAsync(404);
    }

    [DbFact]
    public async Task Bad_connection_input_names_every_field()
    {
        var problem = await (await app.Client().PostJsonAsync("/api/v1/calendar-connections", new
        {
            kind = "exchange2003",
            url = "ftp://calendar.example",
            username = "",
            additionalCalendarUrls = new[] { "relative/path" },
        })).ExpectAsync(400);
        var fields = problem["errors"]!.AsObject().Select(kv => kv.Key).ToList();
        fields.ShouldContain("kind");
        fields.ShouldContain("url");
        fields.ShouldContain("username");
        fields.ShouldContain("password");
    }

    [DbFact]
    public async Task Members_manage_only_their_own_connection()
    {
        var admin = app.Client();
        var aliceId = await Scenario.CreateUserAsync(admin, "Alice Cal");
        var alice = app.Client(await Scenario.CreateKeyAsync(admin, aliceId));
        var bobId = await Scenario.CreateUserAsync(admin, "Bob Cal");
        var bob = app.Client(await Scenario.CreateKeyAsync(admin, bobId));

        await (await alice.PostJsonAsync("/api/v1/calendar-connections", new { userId = bobId, url = "http://127.0.0.1:5232/", username = "b", password = "p", bookingCalendarUrl = "/b/" })).ExpectAsync(403);
        var own = await (await alice.PostJsonAsync("/api/v1/calendar-connections", new { url = "http://127.0.0.1:5232/", username = "a", password = "p", bookingCalendarUrl = "/a/" })).ExpectAsync(201);
        own["userId"]!.GetValue<string>().ShouldBe(aliceId);

        await (await bob.GetAsync($"/api/v1/calendar-connections/{own["id"]}")).ExpectAsync(403);
        (await (await bob.GetAsync("/api/v1/calendar-connections")).ExpectAsync(200)).AsArray().ShouldBeEmpty();
        (await (await admin.GetAsync("/api/v1/calendar-connections")).ExpectAsync(200)).AsArray()
            .Select(c => c!["id"]!.GetValue<string>()).ShouldContain(own["id"]!.GetValue<string>());
    }

    [DbFact]
    public async Task A_user_may_have_several_connections_and_exactly_one_receives_bookings()
    {
        var admin = app.Client();
        var userId = await Scenario.CreateUserAsync(admin, "Many Calendars");
        async Task<string> ConnectAsync(string username, bool? booking) =>
            (await (await admin.PostJsonAsync("/api/v1/calendar-connections", new
            {
                userId, url = "http://127.0.0.1:5232/", username, password = "pw", bookingCalendarUrl = $"/{username}/work/", isBookingConnection = booking,
            })).ExpectAsync(201))["id"]!.GetValue<string>();
        async Task<string[]> BookingConnectionsAsync() =>
            [.. (await (await admin.GetAsync("/api/v1/calendar-connections")).ExpectAsync(200)).AsArray()
                .Where(c => c!["userId"]!.GetValue<string>() == userId && c["isBookingConnection"]!.GetValue<bool>())
                .Select(c => c!["id"]!.GetValue<string>())];

        var first = await ConnectAsync("one", null);
        var second = await ConnectAsync("two", null);
        (await BookingConnectionsAsync()).ShouldBe([first]);

        var third = await ConnectAsync("three", true);
        (await BookingConnectionsAsync()).ShouldBe([third]);

        (await (await admin.PutJsonAsync($"/api/v1/calendar-connections/{first}", new
        {
            url = "http://127.0.0.1:5232/", username = "one", bookingCalendarUrl = "/one/work/", isBookingConnection = true,
        })).ExpectAsync(200))["isBookingConnection"]!.GetValue<bool>().ShouldBeTrue();
        (await BookingConnectionsAsync()).ShouldBe([first]);

        // Unmarking the booking connection would leave the user's bookings nowhere: mark another one instead.
        (await (await admin.PutJsonAsync($"/api/v1/calendar-connections/{first}", new
        {
            url = "http://127.0.0.1:5232/", username = "one", bookingCalendarUrl = "/one/work/", isBookingConnection = false,
        })).ExpectAsync(400)).ToJsonString().ShouldContain("isBookingConnection");

        // Deleting it hands the bookings to the oldest remaining connection.
        (await admin.DeleteAsync($"/api/v1/calendar-connections/{first}")).StatusCode.ShouldBe(System.Net.HttpStatusCode.NoContent);
        (await BookingConnectionsAsync()).ShouldBe([second]);

        // The database holds the rule too, whatever the code does.
        var violation = await Should.ThrowAsync<Npgsql.PostgresException>(() => app.WithDbAsync(db =>
            db.Database.ExecuteSqlAsync($"UPDATE calendar_connections SET is_booking_connection = true WHERE id = {Guid.Parse(third)}")));
        violation.SqlState.ShouldBe(Npgsql.PostgresErrorCodes.UniqueViolation);
    }
}
