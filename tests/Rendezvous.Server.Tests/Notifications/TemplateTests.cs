using NodaTime;
using Rendezvous.Integrations.Notifications.Templates;
using Rendezvous.Integrations.Notifications;
using Rendezvous.Server.Features.Notifications.Templates;
using Shouldly;

namespace Rendezvous.Server.Tests.Notifications;

public sealed class TemplateTests
{
    private static readonly Dictionary<string, string> Values = new()
    {
        ["customer.name"] = "Grace <Hopper> & Co",
        ["booking.reason"] = "",
        ["booking.location"] = "Room 1",
        ["manageUrl"] = "https://book.example.com/manage/1?a=1&b=2",
    };

    [Fact]
    public void Placeholders_and_sections_render()
    {
        var t = TemplateText.ParseValid("Hi {{ customer.name }}!{{#booking.reason}} Because {{booking.reason}}.{{/booking.reason}}{{^booking.reason}} No reason.{{/booking.reason}}{{#booking.location}} At {{booking.location}}.{{/booking.location}}");
        t.Render(Values).ShouldBe("Hi Grace <Hopper> & Co! No reason. At Room 1.");
    }

    [Fact]
    public void Values_are_escaped_in_HTML_but_the_template_is_not()
    {
        var t = TemplateText.ParseValid("<b>{{customer.name}}</b> <a href=\"{{manageUrl}}\">x</a>");
        t.Render(Values, HtmlLayout.Escape).ShouldBe("<b>Grace &lt;Hopper&gt; &amp; Co</b> <a href=\"https://book.example.com/manage/1?a=1&amp;b=2\">x</a>");
    }

    [Fact]
    public void Unknown_placeholders_are_named()
    {
        TemplateText.Parse("Hi {{customer.nmae}} and {{ foo }} and {{#bar}}x{{/bar}}", out var problems, out var unknown);
        unknown.ShouldBe(["{{customer.nmae}}", "{{foo}}", "{{bar}}"]);
        problems[0].ShouldBe("unknown placeholders: {{customer.nmae}}, {{foo}}, {{bar}}");
    }

    [Theory]
    [InlineData("{{#booking.reason}}never closed", "is never closed")]
    [InlineData("{{/booking.reason}}", "never opened")]
    [InlineData("{{#booking.reason}}{{#booking.location}}{{/booking.reason}}{{/booking.location}}", "is the one open")]
    [InlineData("Hello {{customer.name", "never closed")]
    public void Malformed_templates_are_refused(string source, string problem)
    {
        TemplateText.Parse(source, out var problems, out _);
        problems.ShouldContain(p => p.Contains(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void Every_default_template_is_valid_for_every_kind_and_audience()
    {
        foreach (var kind in Enum.GetValues<NotificationKind>())
        {
            foreach (var audience in Enum.GetValues<TemplateAudience>())
            {
                var t = DefaultTemplates.For(kind, audience);
                EmailTemplateStore.Validate(t.Subject, t.Text, t.Html).ShouldBeEmpty($"{kind}/{audience}");
                t.Html.ShouldStartWith("<!DOCTYPE html>");
            }
        }
    }

    [Fact]
    public void Default_texts_read_well_without_optional_values()
    {
        var t = EmailTemplateStore.Default(NotificationKind.Canceled, TemplateAudience.Customer);
        var text = t.Text.Render(new Dictionary<string, string>
        {
            ["customer.name"] = "Grace",
            ["host.name"] = "Ada",
            ["booking.title"] = "Intro call",
            ["booking.when"] = "Monday",
            ["organization.name"] = "Acme",
        });
        text.ShouldBe("""
            Hello Grace,

            Your Intro call with Ada is canceled.

            When: Monday

            If you would like to meet another time, you are welcome to book again.

            Acme

            """.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void HTML_is_made_from_a_text_template_with_the_manage_button()
    {
        var html = HtmlLayout.FromText("Hello {{customer.name}} & friends,\nline two\n\n{{manageUrl}}\n");
        html.ShouldContain("Hello {{customer.name}} &amp; friends,<br>\nline two");
        html.ShouldContain("<a href=\"{{manageUrl}}\"");
        var rendered = TemplateText.ParseValid(html).Render(Values, HtmlLayout.Escape);
        rendered.ShouldContain("Grace &lt;Hopper&gt; &amp; Co &amp; friends");
        rendered.ShouldContain("href=\"https://book.example.com/manage/1?a=1&amp;b=2\"");
    }

    [Theory]
    [InlineData("America/New_York", "Monday, 15 March 2027, 10:00 (America/New_York)")]
    [InlineData("Asia/Kathmandu", "Monday, 15 March 2027, 19:45 (Asia/Kathmandu)")]
    [InlineData("Pacific/Kiritimati", "Tuesday, 16 March 2027, 04:00 (Pacific/Kiritimati)")]
    public void Times_are_shown_in_the_recipients_zone_with_its_name(string zone, string expected)
    {
        var instant = Instant.FromUtc(2027, 3, 15, 14, 0);
        BookingNotifier.At(instant, DateTimeZoneProviders.Tzdb[zone]).ShouldBe(expected);
    }

    [Fact]
    public void A_range_across_midnight_names_both_days()
    {
        var zone = DateTimeZoneProviders.Tzdb["Europe/London"];
        BookingNotifier.Range(Instant.FromUtc(2027, 3, 15, 10, 0), Instant.FromUtc(2027, 3, 15, 10, 30), zone)
            .ShouldBe("Monday, 15 March 2027, 10:00 to 10:30 (Europe/London)");
        BookingNotifier.Range(Instant.FromUtc(2027, 3, 15, 23, 30), Instant.FromUtc(2027, 3, 16, 0, 30), zone)
            .ShouldBe("Monday, 15 March 2027, 23:30 to Tuesday, 16 March 2027, 00:30 (Europe/London)");
    }
}
