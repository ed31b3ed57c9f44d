namespace Rendezvous.Calendars.CalDav.Tests;

public sealed class HrefAndDiffTests
{
    private static readonly Uri Server = new("https://dav.example.com:8443/dav/");

    [Theory]
    [InlineData("/u/cal/a%40b.ics", "https://dav.example.com:8443/u/cal/a%40b.ics")]
    [InlineData("/u/cal/a%2fb%7E.ics", "https://dav.example.com:8443/u/cal/a%2fb%7E.ics")]
    [InlineData("/u/cal/a b.ics", "https://dav.example.com:8443/u/cal/a%20b.ics")]
    [InlineData("/u/cal/café.ics", "https://dav.example.com:8443/u/cal/caf%C3%A9.ics")]
    [InlineData("/u/cal/100%.ics", "https://dav.example.com:8443/u/cal/100%25.ics")]
    [InlineData("cal/a.ics", "https://dav.example.com:8443/dav/cal/a.ics")]
    [InlineData("http://other.example.com/x/a.ics", "http://other.example.com/x/a.ics")]
    public void Resolve_keeps_escapes_and_escapes_only_what_cannot_be_sent(string href, string expected)
    {
        var uri = CalDavHref.Resolve(Server, href);

        uri.OriginalString.ShouldBe(expected);
        uri.PathAndQuery.ShouldBe(expected[expected.IndexOf('/', 8)..]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("ftp://example.com/a.ics")]
    public void Resolve_refuses_unusable_hrefs(string href)
    {
        Should.Throw<ArgumentException>(() => CalDavHref.Resolve(Server, href));
    }

    [Fact]
    public void Combine_escapes_the_member_name()
    {
        CalDavHref.Combine("/u/cal/", "a b@c/d.ics").ShouldBe("/u/cal/a%20b%40c%2Fd.ics");
        CalDavHref.Combine("/u/cal", "x.ics").ShouldBe("/u/cal/x.ics");
    }

    [Theory]
    [InlineData("/u/cal/a%40b.ics", "/u/cal/a@b.ics")]
    [InlineData("/u/cal/a%40b.ics", "/u/cal/a%40B.ics", false)]
    [InlineData("/u/cal/%7euser.ics", "/u/cal/~user.ics")]
    [InlineData("/u/cal/caf%c3%a9.ics", "/u/cal/café.ics")]
    [InlineData("https://host/u/cal/a.ics", "/u/cal/a.ics")]
    [InlineData("/u/cal/a.ics?x=1", "/u/cal/a.ics")]
    [InlineData("/u/cal/a%2Fb.ics", "/u/cal/a/b.ics", false)]
    [InlineData("/u/cal/", "/u/cal", false)]
    [InlineData("/u/cal/100%.ics", "/u/cal/100%25.ics")]
    public void The_comparer_treats_escape_spellings_alike(string a, string b, bool equal = true)
    {
        CalDavHref.Comparer.Equals(a, b).ShouldBe(equal);
        if (equal)
        {
            CalDavHref.Comparer.GetHashCode(a).ShouldBe(CalDavHref.Comparer.GetHashCode(b));
        }
    }

    [Fact]
    public void Diff_names_added_changed_and_removed_members_across_escape_spellings()
    {
        var known = new Dictionary<string, string?>
        {
            ["/cal/same%40x.ics"] = "\"1\"",
            ["/cal/changed.ics"] = "\"1\"",
            ["/cal/removed.ics"] = "\"1\"",
            ["/cal/no-etag-before.ics"] = null,
        };
        var current = new[]
        {
            new ObjectVersion("/cal/same@x.ics", "\"1\""),
            new ObjectVersion("/cal/changed.ics", "\"2\""),
            new ObjectVersion("/cal/no-etag-before.ics", null),
            new ObjectVersion("/cal/new.ics", "\"1\""),
            new ObjectVersion("/cal/new.ics", "\"1\""),
        };

        var diff = CollectionDiff.Compare(known, current);

        diff.Added.ShouldBe([new ObjectVersion("/cal/new.ics", "\"1\"")]);
        diff.Changed.Select(c => c.Href).ShouldBe(["/cal/changed.ics", "/cal/no-etag-before.ics"]);
        diff.Removed.ShouldBe(["/cal/removed.ics"]);
        diff.IsEmpty.ShouldBeFalse();
    }

    [Fact]
    public void Diff_of_an_unchanged_collection_is_empty()
    {
        var known = new Dictionary<string, string?> { ["/cal/a.ics"] = "\"1\"" };

        CollectionDiff.Compare(known, [new ObjectVersion("/cal/a.ics", "\"1\"")]).IsEmpty.ShouldBeTrue();
        CollectionDiff.Compare(new Dictionary<string, string?>(), []).IsEmpty.ShouldBeTrue();
    }
}
