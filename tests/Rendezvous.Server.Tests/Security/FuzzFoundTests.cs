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
}
