using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Rendezvous.Domain;
using Rendezvous.Server.Features.SelfService;
using Rendezvous.Server.Tests.Infrastructure;
using Rendezvous.Server.Tests.Web;
using Shouldly;

namespace Rendezvous.Server.Tests.Security;

/// <summary>Requests found by fuzzing that used to end in 500 now get a 4xx problem+json.</summary>
public sealed class FuzzFoundTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    [DbFact]
    public async Task Posting_or_putting_to_the_manage_page_is_refused_with_405_not_a_crash()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-09T10:00:00Z"))["id"]!.GetValue<string>();
        var token = app.Services.GetRequiredService<SelfServiceLinks>().CreateToken(new BookingId(Guid.Parse(id)), LinkPurpose.Reschedule);

        var web = new WebSession(app);
        (await web.GetAsync($"/manage/{token}")).StatusCode.ShouldBe(HttpStatusCode.OK);
        var posted = await web.PostAsync($"/manage/{token}", [new("anything", "1")], tokenFrom: $"/manage/{token}");
        await posted.ExpectAsync(405);
        posted.Content.Headers.Allow.ShouldContain("GET");

        var put = await web.Client.PutAsync($"/manage/{token}", new FormUrlEncodedContent([new("anything", "1")]));
        ((int)put.StatusCode).ShouldBeInRange(400, 499);
        put.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
    }

    [DbTheory]
    [InlineData("/api/v1/bookings?to=9999-12-31", "to")]
    [InlineData("/api/v1/bookings?from=0000-01-01", "from")]
    [InlineData("/api/v1/bookings?from=9999-12-31T23:59:59Z", "from")]
    public async Task Dates_at_the_edges_of_the_calendar_are_refused_naming_the_field(string url, string field)
    {
        var problem = await (await app.Client().GetAsync(url)).ExpectAsync(400);
        problem.ToJsonString().ShouldContain($"\"{field}\"");
    }

    [DbFact]
    public async Task Slots_in_the_year_9999_are_refused_naming_the_field()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var problem = await (await app.Anonymous().GetAsync($"/api/v1/booking-pages/{slug}/slots?from=9999-12-30&to=9999-12-31&timeZone=UTC")).ExpectAsync(400);
        problem.ToJsonString().ShouldContain("\"from\"");
    }
}
