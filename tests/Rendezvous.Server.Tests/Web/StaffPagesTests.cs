using System.Net;
using Microsoft.EntityFrameworkCore;
using System.Text.RegularExpressions;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Web;

/// <summary>Staff pages that change things without a browser: time off, a staff reschedule with its extras, the page editor.</summary>
public sealed partial class StaffPagesTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    private async Task<(string Id, WebSession Web)> SignedInMemberAsync()
    {
        var admin = app.Client();
        var id = await Scenario.CreateUserAsync(admin, "Staff Pages Member");
        var email = (await (await admin.GetAsync($"/api/v1/users/{id}")).ExpectAsync(200))["email"]!.GetValue<string>();
        await admin.PutJsonAsync($"/api/v1/users/{id}/password", new { password = "member password 1" });
        var web = new WebSession(app);
        (await web.SignInAsync(email, "member password 1")).StatusCode.ShouldBe(HttpStatusCode.Redirect);
        return (id, web);
    }

    [DbFact]
    public async Task Time_off_entered_under_my_calendar_keeps_those_times_free_until_removed()
    {
        var (id, web) = await SignedInMemberAsync();
        var slug = await Scenario.CreatePageAsync(app.Client(), p => p["ownerId"] = id);
        async Task<int> SlotsOn15thAsync() =>
            (await (await app.Anonymous().GetAsync($"/api/v1/booking-pages/{slug}/slots?from=2027-03-15&to=2027-03-15")).ExpectAsync(200))["slots"]!.AsArray().Count;
        (await SlotsOn15thAsync()).ShouldBe(16);

        var added = await web.PostAsync("/app/calendar?handler=TimeOff&week=2027-03-15",
            [new("fromDate", "2027-03-15"), new("fromTime", "12:00"), new("toTime", "17:00"), new("note", "Dentist")], tokenFrom: "/app/calendar?week=2027-03-15");
        added.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        (await SlotsOn15thAsync()).ShouldBe(6);

        await web.GetAsync("/app/calendar?week=2027-03-15");
        web.LastHtml.ShouldContain("Dentist");
        web.LastHtml.ShouldContain("Monday 15 March 2027, 12:00 to Monday 15 March 2027, 17:00");
        var blockId = BlockPattern().Match(web.LastHtml).Groups[1].Value;
        (await web.PostAsync("/app/calendar?handler=RemoveTimeOff&week=2027-03-15", [new("blockId", blockId)])).StatusCode.ShouldBe(HttpStatusCode.Redirect);
        (await SlotsOn15thAsync()).ShouldBe(16);

        // Backwards time off is refused with a message.
        await web.PostAsync("/app/calendar?handler=TimeOff", [new("fromDate", "2027-03-16"), new("fromTime", "15:00"), new("toTime", "09:00")],
            tokenFrom: "/app/calendar");
        web.LastHtml.ShouldContain("Time off must end after it starts");
    }

    [DbFact]
    public async Task A_staff_reschedule_carries_reminders_notes_and_the_customers_email()
    {
        var (id, web) = await SignedInMemberAsync();
        var slug = await Scenario.CreatePageAsync(app.Client(), p => p["ownerId"] = id);
        var bookingId = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-17T10:00:00Z"))["id"]!.GetValue<string>();

        var picker = await web.GetAsync($"/app/bookings/{bookingId}/reschedule?tz=UTC&date=2027-03-18");
        picker.StatusCode.ShouldBe(HttpStatusCode.OK);
        web.LastHtml.ShouldContain("Move to 09:00 on Thursday 18 March 2027");
        await web.GetAsync($"/app/bookings/{bookingId}/reschedule?tz=UTC&start=2027-03-18T09:00:00Z");
        web.LastHtml.ShouldContain("Thursday 18 March 2027, 09:00–09:30");

        // The email's placeholders are checked, and the message names the field.
        await web.PostAsync($"/app/bookings/{bookingId}/reschedule",
            [new("Start", "2027-03-18T09:00:00Z"), new("Tz", "UTC"), new("SendEmail", "true"), new("Subject", "About {{nope}}")]);
        web.LastHtml.ShouldContain("aria-invalid=\"true\"");
        web.LastHtml.ShouldContain("nope");

        var moved = await web.PostAsync($"/app/bookings/{bookingId}/reschedule",
        [
            new("Start", "2027-03-18T09:00:00Z"), new("Tz", "UTC"), new("Reason", "Host travelling"), new("PublicNotes", "Bring the contract."),
            new("ChangeReminders", "true"), new("Reminders[0]", "120"), new("SendEmail", "false"), new("SendEmail", "false"),
        ]);
        moved.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var booking = await (await app.Client().GetAsync($"/api/v1/bookings/{bookingId}")).ExpectAsync(200);
        booking["start"]!.GetValue<string>().ShouldBe("2027-03-18T09:00:00Z");
        booking["status"]!.GetValue<string>().ShouldBe("rescheduled");
        booking["publicNotes"]!.GetValue<string>().ShouldBe("Bring the contract.");
        booking["reason"]!.GetValue<string>().ShouldBe("Host travelling");
        var plan = await app.WithDbAsync(db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ToListAsync(
            db.Database.SqlQueryRaw<string>("SELECT plan::text AS \"Value\" FROM booking_reminder_plans WHERE booking_id = {0}", Guid.Parse(bookingId))));
        plan.Single().ShouldContain("120");
    }

    [DbFact]
    public async Task The_page_editor_saves_every_kind_of_setting_and_names_mistakes_next_to_their_fields()
    {
        var (id, web) = await SignedInMemberAsync();
        await web.GetAsync("/app/pages/new");
        web.LastHtml.ShouldContain("New booking page");
        var slug = "web-" + Guid.NewGuid().ToString("N")[..10];
        List<KeyValuePair<string, string>> form =
        [
            new("Form.Title", "Workshop"), new("Form.Slug", slug), new("Form.OwnerId", id), new("Form.DurationMinutes", "60"),
            new("Form.TimeZone", "America/New_York"), new("Form.SchedulingOption", "groupSession"), new("Form.SeatsPerSlot", "6"),
            new("Form.Hours[tuesday]", "10:00-12:00, 14:00-16:00"), new("Form.Hours[friday]", "24:00-09:00"),
            new("Form.Overrides[0].Date", "2027-03-23"), new("Form.Overrides[0].Hours", "closed"),
            new("Form.BufferAfterMinutes", "15"), new("Form.MinimumNoticeMinutes", "1440"), new("Form.BookingWindowDays", "30"),
            new("Form.MaxBookingsPerDay", "2"), new("Form.CancellationKind", "upTo"), new("Form.CancellationMinutes", "720"),
            new("Form.RescheduleKind", "anyTime"), new("Form.Reminders[0]", "1440"), new("Form.Reminders[1]", "60"), new("Form.FollowUp", "120"),
            new("Form.Questions[0].Label", "Your company"), new("Form.Questions[0].Required", "true"), new("Form.RequiresApproval", "false"),
        ];
        var invalid = await web.PostAsync("/app/pages/new", form);
        invalid.StatusCode.ShouldBe(HttpStatusCode.OK);
        web.LastHtml.ShouldContain("Friday hours");
        web.LastHtml.ShouldContain("id=\"err-hours-friday\"");

        form[8] = new("Form.Hours[friday]", "09:00-24:00");
        var created = await web.PostAsync("/app/pages/new", form, tokenFrom: "/app/pages/new");
        created.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var page = (await (await app.Client().GetAsync("/api/v1/booking-pages")).ExpectAsync(200)).AsArray().Single(p => p!["slug"]!.GetValue<string>() == slug)!;
        page["schedulingOption"]!.GetValue<string>().ShouldBe("groupSession");
        page["seatsPerSlot"]!.GetValue<int>().ShouldBe(6);
        page["weeklyHours"]!.AsArray().Count.ShouldBe(3);
        page["dateOverrides"]![0]!["date"]!.GetValue<string>().ShouldBe("2027-03-23");
        page["dateOverrides"]![0]!["hours"]!.AsArray().ShouldBeEmpty();
        page["cancellationPolicy"]!["minutesBefore"]!.GetValue<int>().ShouldBe(720);
        page["reminders"]!.AsArray().Select(r => r!["offsetMinutes"]!.GetValue<int>()).ShouldBe([1440, 60]);
        page["followUp"]!["offsetMinutes"]!.GetValue<int>().ShouldBe(120);
        page["questions"]![0]!["id"]!.GetValue<string>().ShouldBe("your-company");
        page["maxBookingsPerDay"]!.GetValue<int>().ShouldBe(2);

        // A member cannot edit someone else's page.
        var adminSlug = await Scenario.CreatePageAsync(app.Client());
        var adminPage = (await (await app.Client().GetAsync("/api/v1/booking-pages")).ExpectAsync(200)).AsArray().Single(p => p!["slug"]!.GetValue<string>() == adminSlug)!;
        (await web.GetAsync($"/app/pages/{adminPage["id"]}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [GeneratedRegex("name=\"blockId\" value=\"([0-9a-f-]+)\"")]
    private static partial Regex BlockPattern();
}
