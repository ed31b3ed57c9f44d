using Rendezvous.Client;
using Rendezvous.Server.Infrastructure.OpenApi;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Api;

/// <summary>
/// Drives the server end to end through the client NSwag generates from the checked-in document
/// (src/Rendezvous.Client), as an integrator would: a change that breaks generated clients breaks these tests. The
/// HTTP client underneath also checks every answer against the document.
/// </summary>
public sealed class GeneratedClientTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    private static readonly string[] Weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday"];

    private RendezvousClient Admin() => new(app.Client());

    private RendezvousClient Anonymous() => new(app.Anonymous());

    private static BookingPageRequest Page(string slug) => new()
    {
        Slug = slug,
        Title = "Generated client call",
        DurationMinutes = 30,
        TimeZone = "Europe/London",
        WeeklyHours = [.. Weekdays.Select(d => new WeeklyHoursSpec { Day = d, Start = "09:00", End = "17:00" })],
    };

    private static CreateBookingRequest Booking(DateTimeOffset start) => new()
    {
        Start = start,
        Customer = new CustomerRequest { Name = "Ada Lovelace", Email = $"ada.{Guid.NewGuid():N}@example.com", TimeZone = "Europe/London" },
    };

    [DbFact]
    public async Task A_page_is_created_booked_rescheduled_and_canceled_through_the_generated_client()
    {
        var slug = "gc-" + Guid.NewGuid().ToString("N")[..10];
        var page = await Admin().BookingPages_CreateAsync(Page(slug));
        page.Slug.ShouldBe(slug);
        (await Admin().BookingPages_GetAsync(page.Id.ToString())).Title.ShouldBe("Generated client call");

        var slots = await Anonymous().PublicBooking_ListSlotsAsync(
            slug, new DateTimeOffset(2027, 3, 8, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2027, 3, 8, 0, 0, 0, TimeSpan.Zero), null, null);
        slots.Slots.ShouldNotBeEmpty();

        var booked = await Anonymous().PublicBooking_CreateAsync(slug, null, Booking(new DateTimeOffset(2027, 3, 8, 10, 0, 0, TimeSpan.Zero)));
        booked.Status.ShouldBe(BookingResponseStatus.Scheduled);
        booked.Start.ShouldBe(new DateTimeOffset(2027, 3, 8, 10, 0, 0, TimeSpan.Zero));

        var moved = await Admin().Bookings_RescheduleAsync(booked.Id.ToString(), new RescheduleRequest
        {
            Start = new DateTimeOffset(2027, 3, 9, 14, 0, 0, TimeSpan.Zero),
            Reason = "The host is travelling.",
        });
        moved.Start.ShouldBe(new DateTimeOffset(2027, 3, 9, 14, 0, 0, TimeSpan.Zero));
        moved.Status.ShouldBe(BookingResponseStatus.Rescheduled);

        var canceled = await Admin().Bookings_CancelAsync(booked.Id.ToString(), new BookingActionRequest { Reason = "No longer needed." });
        canceled.Status.ShouldBe(BookingResponseStatus.Canceled);
        (await Admin().Bookings_GetAsync(booked.Id.ToString())).History!.Count.ShouldBeGreaterThanOrEqualTo(3);

        var listed = await Admin().Bookings_ListAsync(null, "2027-03-01", "2027-03-31", null, page.Id.ToString(), null, null);
        listed.Select(b => b.Id).ShouldContain(booked.Id);
    }

    [DbFact]
    public async Task Errors_arrive_as_typed_problems_with_their_code()
    {
        var slug = "gc-" + Guid.NewGuid().ToString("N")[..10];
        await Admin().BookingPages_CreateAsync(Page(slug));
        var start = new DateTimeOffset(2027, 3, 10, 11, 0, 0, TimeSpan.Zero);
        await Anonymous().PublicBooking_CreateAsync(slug, null, Booking(start));

        var taken = await Should.ThrowAsync<RendezvousApiException<Problem>>(() => Anonymous().PublicBooking_CreateAsync(slug, null, Booking(start)));
        taken.StatusCode.ShouldBe(409);
        taken.Result.Code.ShouldBe("slot_unavailable");

        var missing = await Should.ThrowAsync<RendezvousApiException<Problem>>(() => Admin().Bookings_GetAsync(Guid.NewGuid().ToString()));
        missing.StatusCode.ShouldBe(404);

        var anonymous = await Should.ThrowAsync<RendezvousApiException<Problem>>(() => Anonymous().Bookings_ListAsync(null, null, null, null, null, null, null));
        anonymous.StatusCode.ShouldBe(401);
    }

    [DbFact]
    public async Task A_webhook_subscription_is_created_changed_rotated_and_deleted_through_the_generated_client()
    {
        var created = await Admin().Webhooks_CreateAsync(new WebhookRequest
        {
            Url = new Uri($"http://127.0.0.1:9/hooks/{Guid.NewGuid():N}"),
            Events = [Events.Booking_created, Events.Booking_canceled],
            Description = "CRM sync",
        });
        created.Secret.ShouldNotBeNullOrEmpty();
        created.Events.ShouldBe([Events2.Booking_created, Events2.Booking_canceled], ignoreOrder: true);

        var updated = await Admin().Webhooks_UpdateAsync(created.Id.ToString(), new WebhookRequest { Description = "CRM sync (paused)", Active = false });
        updated.Active.ShouldBeFalse();
        (await Admin().Webhooks_ListAsync(null, null)).Select(w => w.Id).ShouldContain(created.Id);

        var rotated = await Admin().Webhooks_RotateSecretAsync(created.Id.ToString());
        rotated.Secret.ShouldNotBe(created.Secret);
        (await Admin().Webhooks_ListDeliveriesAsync(created.Id.ToString(), null, null, null)).ShouldBeEmpty();

        await Admin().Webhooks_DeleteAsync(created.Id.ToString());
        (await Should.ThrowAsync<RendezvousApiException>(() => Admin().Webhooks_GetAsync(created.Id.ToString()))).StatusCode.ShouldBe(404);
    }
}

/// <summary>Cursor paging over a list route: pages of <c>limit</c>, the next cursor in a header, nothing lost or repeated.</summary>
public sealed class CursorPagingTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    [DbFact]
    public async Task A_list_pages_with_limit_and_the_Next_Cursor_header_until_the_last_page()
    {
        var admin = app.Client();
        var slug = await Scenario.CreatePageAsync(admin);
        var expected = new List<string>();
        foreach (var hour in new[] { 9, 10, 11, 12, 13 })
        {
            expected.Add((await Scenario.BookAsync(app.Anonymous(), slug, $"2027-03-15T{hour:00}:00:00Z"))["id"]!.GetValue<string>());
        }

        var seen = new List<string>();
        var url = "/api/v1/bookings?from=2027-03-15&to=2027-03-15&limit=2";
        var pages = 0;
        while (url is not null)
        {
            var response = await admin.GetAsync(url);
            var page = (await response.ExpectAsync(200)).AsArray();
            page.Count.ShouldBeLessThanOrEqualTo(2);
            seen.AddRange(page.Select(b => b!["id"]!.GetValue<string>()));
            pages++;
            url = response.Headers.TryGetValues("Next-Cursor", out var cursor)
                ? $"/api/v1/bookings?from=2027-03-15&to=2027-03-15&limit=2&cursor={cursor.Single()}"
                : null;
            if (url is not null)
            {
                response.Headers.GetValues("Link").Single().ShouldContain("rel=\"next\"");
            }
        }

        pages.ShouldBe(3);
        seen.ShouldBe(expected);
    }

    [DbFact]
    public async Task The_bookings_cursor_is_a_keyset_so_a_booking_made_before_it_meanwhile_is_not_seen_twice()
    {
        var admin = app.Client();
        var slug = await Scenario.CreatePageAsync(admin);
        var expected = new List<string>();
        foreach (var hour in new[] { 10, 11, 12, 13, 14 })
        {
            expected.Add((await Scenario.BookAsync(app.Anonymous(), slug, $"2027-03-16T{hour:00}:00:00Z"))["id"]!.GetValue<string>());
        }

        const string list = "/api/v1/bookings?from=2027-03-16&to=2027-03-16&limit=2";
        var first = await admin.GetAsync(list);
        var seen = (await first.ExpectAsync(200)).AsArray().Select(b => b!["id"]!.GetValue<string>()).ToList();
        seen.ShouldBe(expected.Take(2));

        // Made between two pages, earlier than the cursor: a position would now point one booking back and repeat 11:00.
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-16T09:00:00Z");
        var cursor = first.Headers.GetValues("Next-Cursor").Single();
        while (cursor is not null)
        {
            var response = await admin.GetAsync($"{list}&cursor={cursor}");
            seen.AddRange((await response.ExpectAsync(200)).AsArray().Select(b => b!["id"]!.GetValue<string>()));
            cursor = response.Headers.TryGetValues("Next-Cursor", out var next) ? next.Single() : null;
        }

        seen.ShouldBe(expected);
        var wrongKind = await (await admin.GetAsync($"{list}&cursor={ApiPaging.Encode(2)}")).ExpectAsync(400);
        wrongKind["errors"]!["cursor"].ShouldNotBeNull();
    }

    [DbFact]
    public async Task A_list_cursor_resumes_after_its_last_item_when_an_earlier_one_is_deleted()
    {
        var admin = app.Client();
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var hook = await (await admin.PostJsonAsync("/api/v1/webhooks", new { url = $"http://127.0.0.1:9/paging/{i}", events = new[] { "*" } })).ExpectAsync(201);
            ids.Add(hook["id"]!.GetValue<string>());
        }

        var all = (await (await admin.GetAsync("/api/v1/webhooks")).ExpectAsync(200)).AsArray().Select(w => w!["id"]!.GetValue<string>()).ToList();
        var firstTwo = await admin.GetAsync("/api/v1/webhooks?limit=2");
        var page = (await firstTwo.ExpectAsync(200)).AsArray().Select(w => w!["id"]!.GetValue<string>()).ToList();
        page.ShouldBe(all.Take(2));

        // The first item goes away between pages: a position would now skip the item right after the page.
        (await admin.DeleteAsync($"/api/v1/webhooks/{all[0]}")).StatusCode.ShouldBe(System.Net.HttpStatusCode.NoContent);
        var cursor = firstTwo.Headers.GetValues("Next-Cursor").Single();
        var rest = (await (await admin.GetAsync($"/api/v1/webhooks?limit=100&cursor={cursor}")).ExpectAsync(200)).AsArray()
            .Select(w => w!["id"]!.GetValue<string>()).ToList();
        rest.ShouldBe(all.Skip(2));
    }

    [DbFact]
    public async Task A_route_without_its_own_limit_pages_too_and_a_forged_cursor_is_a_400()
    {
        var admin = app.Client();
        for (var i = 0; i < 3; i++)
        {
            await Scenario.CreatePageAsync(admin);
        }

        var all = (await (await admin.GetAsync("/api/v1/booking-pages")).ExpectAsync(200)).AsArray();
        var first = await admin.GetAsync("/api/v1/booking-pages?limit=2");
        (await first.ExpectAsync(200)).AsArray().Count.ShouldBe(2);
        var cursor = first.Headers.GetValues("Next-Cursor").Single();
        var rest = (await (await admin.GetAsync($"/api/v1/booking-pages?limit=100&cursor={cursor}")).ExpectAsync(200)).AsArray();
        rest.Count.ShouldBe(all.Count - 2);

        var forged = await (await admin.GetAsync("/api/v1/booking-pages?cursor=MTAw")).ExpectAsync(400);
        forged["errors"]!["cursor"].ShouldNotBeNull();
        await (await admin.GetAsync("/api/v1/booking-pages?limit=0")).ExpectAsync(400);
    }
}
