using Rendezvous.Integrations.Notifications;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Notifications;

/// <summary>The email template API on its own (no mail server needed).</summary>
public sealed class EmailTemplateApiTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    [DbFact]
    public async Task One_organization_can_neither_see_nor_change_anothers_templates()
    {
        var a = app.Client(await app.CreateOrganizationAsync("iso-a-" + Guid.NewGuid().ToString("N")[..8]));
        var b = app.Client(await app.CreateOrganizationAsync("iso-b-" + Guid.NewGuid().ToString("N")[..8]));
        await (await a.PutJsonAsync("/api/v1/email-templates/canceled?audience=host", new { subject = "A: {{customer.name}}", text = "A's own" })).ExpectAsync(200);

        (await (await b.GetAsync("/api/v1/email-templates/canceled?audience=host")).ExpectAsync(200))["customised"]!.GetValue<bool>().ShouldBeFalse();
        (await (await b.GetAsync("/api/v1/email-templates")).ExpectAsync(200))["templates"]!.AsArray()
            .ShouldAllBe(t => !t!["customised"]!.GetValue<bool>());
        await (await b.PutJsonAsync("/api/v1/email-templates/canceled?audience=host", new { subject = "B", text = "B's own" })).ExpectAsync(200);
        await (await b.DeleteAsync("/api/v1/email-templates/canceled?audience=host")).ExpectAsync(200);

        var mine = await (await a.GetAsync("/api/v1/email-templates/canceled?audience=host")).ExpectAsync(200);
        mine["subject"]!.GetValue<string>().ShouldBe("A: {{customer.name}}");
        mine["text"]!.GetValue<string>().ShouldBe("A's own");
    }

    [DbFact]
    public async Task Templates_validate_every_part_and_name_unknown_placeholders()
    {
        var admin = app.Client();
        var problem = await (await admin.PutJsonAsync("/api/v1/email-templates/reminder", new
        {
            subject = "Line one\nline two",
            text = "{{#booking.reason}}unclosed",
            html = "<p>{{customer.shoeSize}}</p>",
        })).ExpectAsync(400);
        var errors = problem["errors"]!.AsObject();
        errors["subject"]![0]!.GetValue<string>().ShouldContain("one line");
        errors["text"]![0]!.GetValue<string>().ShouldContain("never closed");
        errors["html"]![0]!.GetValue<string>().ShouldBe("unknown placeholders: {{customer.shoeSize}}");
        await (await admin.PutJsonAsync("/api/v1/email-templates/reminder", new { subject = "", text = "x" })).ExpectAsync(400);

        // Own HTML is kept as written; kinds are matched without regard to case.
        var saved = await (await admin.PutJsonAsync("/api/v1/email-templates/FOLLOWUP", new
        {
            subject = "Thanks, {{customer.name}}",
            text = "Thanks!",
            html = "<p>Thanks, <b>{{customer.name}}</b>!</p>",
        })).ExpectAsync(200);
        saved["kind"]!.GetValue<string>().ShouldBe("followUp");
        saved["html"]!.GetValue<string>().ShouldBe("<p>Thanks, <b>{{customer.name}}</b>!</p>");
        saved["htmlFromText"]!.GetValue<bool>().ShouldBeFalse();
        (await (await admin.DeleteAsync("/api/v1/email-templates/followUp")).ExpectAsync(200))["customised"]!.GetValue<bool>().ShouldBeFalse();
        (await (await admin.GetAsync("/api/v1/email-templates/followUp")).ExpectAsync(200))["subject"]!.GetValue<string>()
            .ShouldBe("Thank you for meeting with {{host.name}}");
    }

    [DbFact]
    public async Task Without_an_SMTP_host_booking_changes_send_nothing_and_leave_nothing_pending()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-19T10:00:00Z");
        var notifier = app.Services.GetService(typeof(BookingNotifier)).ShouldBeOfType<BookingNotifier>();
        notifier.IsEnabled.ShouldBeFalse();
        await app.WithScopeAsync(async sp =>
        {
            var processor = (Rendezvous.Data.Outbox.OutboxProcessor)sp.GetService(typeof(Rendezvous.Data.Outbox.OutboxProcessor))!;
            while (await processor.ProcessBatchAsync(50, CancellationToken.None) > 0)
            {
            }

            return 0;
        });
        (await app.WithDbAsync(db => Task.FromResult(db.OutboxMessages.Count(m => m.ProcessedAt == null)))).ShouldBe(0);
    }
}
