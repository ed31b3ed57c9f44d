namespace Rendezvous.Calendars.Ews.Tests;

public sealed class EwsAutodiscoverTests : EwsTestBase
{
    private EwsAutodiscover Autodiscover()
    {
        Options.AutodiscoverUrls.Add(new Uri(Exchange.BaseUrl, "autodiscover/autodiscover.xml").ToString());
        return new EwsAutodiscover(new SocketsHttpHandler { AllowAutoRedirect = false }, Options);
    }

    [Fact]
    public async Task Autodiscover_finds_the_EWS_URL_from_the_email_address()
    {
        var url = await Autodiscover().FindEwsUrlAsync("alice@contoso.test", "alice@contoso.test", "alice-password", default);

        url.ShouldBe(Exchange.EwsUrl);
    }

    [Fact]
    public async Task Autodiscover_follows_a_redirect_to_another_address()
    {
        Exchange.AutodiscoverRedirects["alice@old.contoso.test"] = "alice@contoso.test";

        var url = await Autodiscover().FindEwsUrlAsync("alice@old.contoso.test", "alice@contoso.test", "alice-password", default);

        url.ShouldBe(Exchange.EwsUrl);
        Exchange.Requests.ShouldContain("Autodiscover alice@old.contoso.test");
        Exchange.Requests.ShouldContain("Autodiscover alice@contoso.test");
    }

    [Fact]
    public async Task Autodiscover_with_a_wrong_password_is_access_denied()
    {
        var failure = await Should.ThrowAsync<EwsException>(() => Autodiscover().FindEwsUrlAsync("alice@contoso.test", "alice@contoso.test", "nope", default));

        failure.Kind.ShouldBe(EwsErrorKind.AccessDenied);
    }

    [Fact]
    public async Task Autodiscover_for_an_unknown_address_says_to_enter_the_URL()
    {
        var failure = await Should.ThrowAsync<EwsException>(() => Autodiscover().FindEwsUrlAsync("nobody@contoso.test", "alice@contoso.test", "alice-password", default));

        failure.Kind.ShouldBe(EwsErrorKind.NotFound);
        failure.Message.ShouldContain("EWS URL");
    }
}
