using Rendezvous.Calendars.CalDav.Tests.Infrastructure;

namespace Rendezvous.Calendars.CalDav.Tests;

/// <summary>The client against a real Radicale on loopback; each test works in its own new calendar.</summary>
public sealed class RadicaleTests : CalDavServerTest
{
    private static readonly string Morning = Ics.Event("a@test", Ics.At(2027, 3, 1, 9), Ics.At(2027, 3, 1, 10), "Morning");

    [CalDavFact]
    public async Task Discovery_from_the_server_root_finds_principal_home_and_the_new_calendar()
    {
        var discovery = await Client.DiscoverAsync();

        discovery.PrincipalHref.ShouldBe("/" + CalDavTestServer.UserName + "/");
        discovery.CalendarHomeHrefs.ShouldNotBeEmpty();
        var calendar = discovery.Calendars.SingleOrDefault(c => CalDavHref.Comparer.Equals(c.Href, CalendarHref));
        calendar.ShouldNotBeNull();
        calendar.DisplayName.ShouldBe("Test " + CalendarName);
        calendar.CTag.ShouldNotBeNullOrEmpty();
        calendar.SyncToken.ShouldNotBeNullOrEmpty();
        calendar.SupportedComponents.ShouldBe(["VEVENT"]);
        calendar.Supports("VEVENT").ShouldBeTrue();
        calendar.Supports("VTODO").ShouldBeFalse();
        calendar.AdvertisesSyncCollection.ShouldBeTrue();
    }

    [CalDavFact]
    public async Task Discovery_follows_the_well_known_redirect_with_credentials()
    {
        var discovery = await Client.DiscoverAsync(new Uri(CalDavTestServer.ServerUri, "/.well-known/caldav"));

        discovery.ContextUri.AbsolutePath.ShouldBe("/");
        discovery.Calendars.ShouldContain(c => CalDavHref.Comparer.Equals(c.Href, CalendarHref));
    }

    [CalDavFact]
    public async Task Get_calendar_reads_ctag_and_sync_token_and_a_missing_calendar_is_not_found()
    {
        var calendar = await Client.GetCalendarAsync(CalendarHref);
        calendar.ShouldNotBeNull();
        calendar.Href.ShouldBe(CalendarHref);

        var missing = await Should.ThrowAsync<CalDavNotFoundException>(() => Client.GetCalendarAsync(CalendarHref + "nothing-here/"));
        missing.StatusCode.ShouldBe(404);
        missing.Kind.ShouldBe(CalDavErrorKind.NotFound);
    }

    [CalDavFact]
    public async Task Creating_a_calendar_that_exists_reports_already_exists()
    {
        (await Client.CreateCalendarAsync(CalendarHref)).ShouldBe(CreateCalendarOutcome.AlreadyExists);
    }

    [CalDavFact]
    public async Task Create_returns_an_etag_and_a_second_create_of_the_same_href_fails_its_precondition()
    {
        var href = ObjectHref("a.ics");

        var first = await Client.CreateObjectAsync(href, Morning);
        first.Outcome.ShouldBe(WriteOutcome.Created);
        first.Succeeded.ShouldBeTrue();
        first.ETag.ShouldNotBeNullOrEmpty();

        var second = await Client.CreateObjectAsync(href, Ics.Event("a@test", Ics.At(2027, 3, 2, 9), Ics.At(2027, 3, 2, 10)));
        second.Outcome.ShouldBe(WriteOutcome.PreconditionFailed);
        second.Succeeded.ShouldBeFalse();

        var stored = await Client.GetObjectAsync(href);
        stored.ShouldNotBeNull();
        stored.ETag.ShouldBe(first.ETag);
        stored.CalendarData.ShouldContain("DTSTART:20270301T090000Z");
    }

    [CalDavFact]
    public async Task Update_with_the_current_etag_succeeds_and_with_a_stale_etag_fails_its_precondition()
    {
        var href = ObjectHref("a.ics");
        var created = await Client.CreateObjectAsync(href, Morning);

        var updated = await Client.UpdateObjectAsync(href, Ics.Event("a@test", Ics.At(2027, 3, 1, 11), Ics.At(2027, 3, 1, 12), "Moved"), created.ETag!);
        updated.Outcome.ShouldBe(WriteOutcome.Updated);
        updated.ETag.ShouldNotBeNullOrEmpty();
        updated.ETag.ShouldNotBe(created.ETag);

        var stale = await Client.UpdateObjectAsync(href, Ics.Event("a@test", Ics.At(2027, 3, 1, 13), Ics.At(2027, 3, 1, 14), "Lost"), created.ETag!);
        stale.Outcome.ShouldBe(WriteOutcome.PreconditionFailed);

        var stored = await Client.GetObjectAsync(href);
        stored!.CalendarData.ShouldContain("SUMMARY:Moved");
        stored.ETag.ShouldBe(updated.ETag);
    }

    [CalDavFact]
    public async Task Delete_honours_the_etag_and_reports_an_object_already_gone()
    {
        var href = ObjectHref("a.ics");
        var created = await Client.CreateObjectAsync(href, Morning);

        (await Client.DeleteAsync(href, "\"not-the-etag\"")).Outcome.ShouldBe(WriteOutcome.PreconditionFailed);
        (await Client.DeleteAsync(href, created.ETag)).Outcome.ShouldBe(WriteOutcome.Deleted);
        (await Client.DeleteAsync(href, created.ETag)).Outcome.ShouldBeOneOf(WriteOutcome.NotFound, WriteOutcome.PreconditionFailed);
        (await Client.DeleteAsync(href)).Outcome.ShouldBe(WriteOutcome.NotFound);
        (await Client.GetObjectAsync(href)).ShouldBeNull();
        (await Client.GetETagAsync(href)).ShouldBeNull();
    }

    [CalDavFact]
    public async Task Initial_sync_lists_the_object_with_its_etag()
    {
        var created = await Client.CreateObjectAsync(ObjectHref("a.ics"), Morning);

        var sync = await Client.SyncCollectionAsync(CalendarHref, null);

        sync.Outcome.ShouldBe(SyncOutcome.Completed);
        sync.IsInitial.ShouldBeTrue();
        sync.SyncToken.ShouldNotBeNullOrEmpty();
        sync.Changed.ShouldHaveSingleItem().ShouldSatisfyAllConditions(
            o => CalDavHref.Comparer.Equals(o.Href, ObjectHref("a.ics")).ShouldBeTrue(),
            o => o.ETag.ShouldBe(created.ETag));
        sync.Deleted.ShouldBeEmpty();
    }

    [CalDavFact]
    public async Task Incremental_sync_reports_exactly_the_update_and_then_exactly_the_deletion()
    {
        var a = await Client.CreateObjectAsync(ObjectHref("a.ics"), Morning);
        await Client.CreateObjectAsync(ObjectHref("b.ics"), Ics.Event("b@test", Ics.At(2027, 3, 2, 9), Ics.At(2027, 3, 2, 10)));
        var initial = await Client.SyncCollectionAsync(CalendarHref, null);
        initial.Changed.Count.ShouldBe(2);

        var nothing = await Client.SyncCollectionAsync(CalendarHref, initial.SyncToken);
        nothing.Outcome.ShouldBe(SyncOutcome.Completed);
        nothing.Changed.ShouldBeEmpty();
        nothing.Deleted.ShouldBeEmpty();

        var updated = await Client.UpdateObjectAsync(ObjectHref("a.ics"), Ics.Event("a@test", Ics.At(2027, 3, 1, 11), Ics.At(2027, 3, 1, 12)), a.ETag!);
        var afterUpdate = await Client.SyncCollectionAsync(CalendarHref, initial.SyncToken);
        afterUpdate.Outcome.ShouldBe(SyncOutcome.Completed);
        afterUpdate.IsInitial.ShouldBeFalse();
        afterUpdate.Changed.ShouldHaveSingleItem().ShouldSatisfyAllConditions(
            o => CalDavHref.Comparer.Equals(o.Href, ObjectHref("a.ics")).ShouldBeTrue(),
            o => o.ETag.ShouldBe(updated.ETag));
        afterUpdate.Deleted.ShouldBeEmpty();
        afterUpdate.SyncToken.ShouldNotBe(initial.SyncToken);

        (await Client.DeleteAsync(ObjectHref("b.ics"))).Outcome.ShouldBe(WriteOutcome.Deleted);
        var afterDelete = await Client.SyncCollectionAsync(CalendarHref, afterUpdate.SyncToken);
        afterDelete.Changed.ShouldBeEmpty();
        CalDavHref.Comparer.Equals(afterDelete.Deleted.ShouldHaveSingleItem(), ObjectHref("b.ics")).ShouldBeTrue();
    }

    [CalDavFact]
    public async Task An_unknown_sync_token_is_reported_as_invalid()
    {
        var initial = await Client.SyncCollectionAsync(CalendarHref, null);

        var invalid = await Client.SyncCollectionAsync(CalendarHref, initial.SyncToken + "0");

        invalid.Outcome.ShouldBe(SyncOutcome.InvalidToken);
        invalid.SyncToken.ShouldBeNull();
        invalid.Changed.ShouldBeEmpty();
    }

    [CalDavFact]
    public async Task Multiget_returns_bodies_and_etags_and_names_the_missing_hrefs()
    {
        var a = await Client.CreateObjectAsync(ObjectHref("a.ics"), Morning);
        var b = await Client.CreateObjectAsync(ObjectHref("b.ics"), Ics.Event("b@test", Ics.At(2027, 3, 2, 9), Ics.At(2027, 3, 2, 10), "Second"));

        var result = await Client.MultigetAsync(CalendarHref, [ObjectHref("a.ics"), ObjectHref("b.ics"), ObjectHref("nothing.ics")]);

        result.Objects.Count.ShouldBe(2);
        var byHref = result.Objects.ToDictionary(o => o.Href, CalDavHref.Comparer);
        byHref[ObjectHref("a.ics")].ETag.ShouldBe(a.ETag);
        byHref[ObjectHref("a.ics")].CalendarData.ShouldContain("UID:a@test");
        byHref[ObjectHref("b.ics")].ETag.ShouldBe(b.ETag);
        byHref[ObjectHref("b.ics")].CalendarData.ShouldContain("SUMMARY:Second");
        result.Missing.ShouldBe([ObjectHref("nothing.ics")]);
    }

    [CalDavFact]
    public async Task Calendar_query_returns_only_events_overlapping_the_range()
    {
        await Client.CreateObjectAsync(ObjectHref("before.ics"), Ics.Event("before@test", Ics.At(2027, 2, 28, 9), Ics.At(2027, 2, 28, 10)));
        await Client.CreateObjectAsync(ObjectHref("inside.ics"), Ics.Event("inside@test", Ics.At(2027, 3, 1, 9), Ics.At(2027, 3, 1, 10)));
        await Client.CreateObjectAsync(ObjectHref("straddles.ics"), Ics.Event("straddles@test", Ics.At(2027, 3, 1, 23), Ics.At(2027, 3, 2, 1)));
        await Client.CreateObjectAsync(ObjectHref("ends-at-start.ics"), Ics.Event("edge@test", Ics.At(2027, 2, 28, 23), Ics.At(2027, 3, 1, 0)));
        await Client.CreateObjectAsync(ObjectHref("after.ics"), Ics.Event("after@test", Ics.At(2027, 3, 3, 9), Ics.At(2027, 3, 3, 10)));

        var found = await Client.QueryEventsAsync(CalendarHref, Ics.At(2027, 3, 1, 0), Ics.At(2027, 3, 2, 0));

        found.Select(o => CalDavHref.Normalize(o.Href)).Order(StringComparer.Ordinal).ShouldBe(
            [CalDavHref.Normalize(ObjectHref("inside.ics")), CalDavHref.Normalize(ObjectHref("straddles.ics"))]);
        found.ShouldAllBe(o => o.ETag != null && o.CalendarData.Contains("BEGIN:VEVENT"));
    }

    [CalDavFact]
    public async Task Ctag_fallback_sees_the_change_and_the_diff_names_added_changed_and_removed()
    {
        var a = await Client.CreateObjectAsync(ObjectHref("a.ics"), Morning);
        var b = await Client.CreateObjectAsync(ObjectHref("b.ics"), Ics.Event("b@test", Ics.At(2027, 3, 2, 9), Ics.At(2027, 3, 2, 10)));
        var ctagBefore = (await Client.GetCalendarAsync(CalendarHref))!.CTag;
        var known = (await Client.ListObjectsAsync(CalendarHref)).ToDictionary(o => o.Href, o => o.ETag);
        known.Count.ShouldBe(2);

        await Client.UpdateObjectAsync(ObjectHref("a.ics"), Ics.Event("a@test", Ics.At(2027, 3, 1, 11), Ics.At(2027, 3, 1, 12)), a.ETag!);
        await Client.DeleteAsync(ObjectHref("b.ics"), b.ETag);
        await Client.CreateObjectAsync(ObjectHref("c.ics"), Ics.Event("c@test", Ics.At(2027, 3, 4, 9), Ics.At(2027, 3, 4, 10)));

        (await Client.GetCalendarAsync(CalendarHref))!.CTag.ShouldNotBe(ctagBefore);
        var diff = CollectionDiff.Compare(known, await Client.ListObjectsAsync(CalendarHref));
        CalDavHref.Comparer.Equals(diff.Added.ShouldHaveSingleItem().Href, ObjectHref("c.ics")).ShouldBeTrue();
        CalDavHref.Comparer.Equals(diff.Changed.ShouldHaveSingleItem().Href, ObjectHref("a.ics")).ShouldBeTrue();
        CalDavHref.Comparer.Equals(diff.Removed.ShouldHaveSingleItem(), ObjectHref("b.ics")).ShouldBeTrue();
    }

    [CalDavFact]
    public async Task Hrefs_with_escaped_characters_round_trip_as_the_server_spells_them()
    {
        var href = ObjectHref("meeting 1@example.com.ics");
        href.ShouldEndWith("/meeting%201%40example.com.ics");
        var created = await Client.CreateObjectAsync(href, Morning);
        created.Outcome.ShouldBe(WriteOutcome.Created);

        var listed = (await Client.SyncCollectionAsync(CalendarHref, null)).Changed.ShouldHaveSingleItem();
        CalDavHref.Comparer.Equals(listed.Href, href).ShouldBeTrue();

        var fetched = await Client.GetObjectAsync(listed.Href);
        fetched.ShouldNotBeNull();
        fetched.Href.ShouldBe(listed.Href);
        fetched.ETag.ShouldBe(created.ETag);
    }

    [CalDavFact]
    public async Task A_second_object_with_the_same_uid_is_rejected_with_the_no_uid_conflict_precondition()
    {
        await Client.CreateObjectAsync(ObjectHref("a.ics"), Morning);

        var error = await Should.ThrowAsync<CalDavRequestRejectedException>(() => Client.CreateObjectAsync(ObjectHref("other.ics"), Morning));

        error.Kind.ShouldBe(CalDavErrorKind.Rejected);
        error.Precondition.ShouldBe(DavNames.CalDav + "no-uid-conflict");
    }

    [CalDavFact]
    public async Task Creating_a_calendar_in_another_users_space_is_access_denied()
    {
        var error = await Should.ThrowAsync<CalDavAccessDeniedException>(
            () => Client.CreateCalendarAsync("/someone-else-" + CalendarName + "/cal/"));

        error.StatusCode.ShouldBe(403);
    }

    [CalDavFact]
    public async Task Clients_sharing_one_pooled_handler_survive_a_server_that_closes_every_connection()
    {
        // Radicale's built-in server answers HTTP/1.0 and closes each connection; the shared handler must not reuse them.
        using var handler = CalDavClient.CreateHttpMessageHandler();
        using var first = new CalDavClient(new HttpClient(handler, disposeHandler: false), CalDavTestServer.Options());
        using var second = new CalDavClient(new HttpClient(handler, disposeHandler: false), CalDavTestServer.Options());

        for (var i = 0; i < 15; i++)
        {
            var client = i % 2 == 0 ? first : second;
            var created = await client.CreateObjectAsync(ObjectHref($"e{i}.ics"), Ics.Event($"e{i}@test", Ics.At(2027, 4, 1, 9), Ics.At(2027, 4, 1, 10)));
            created.Outcome.ShouldBe(WriteOutcome.Created);
            (await client.UpdateObjectAsync(ObjectHref($"e{i}.ics"), Ics.Event($"e{i}@test", Ics.At(2027, 4, 2, 9), Ics.At(2027, 4, 2, 10)), created.ETag!))
                .Outcome.ShouldBe(WriteOutcome.Updated);
        }

        (await first.ListObjectsAsync(CalendarHref)).Count.ShouldBe(15);
    }

    [CalDavFact]
    public async Task A_wrong_password_is_access_denied()
    {
        using var client = CalDavTestServer.CreateClient(password: "not-the-password");

        var error = await Should.ThrowAsync<CalDavAccessDeniedException>(() => client.DiscoverAsync());
        error.StatusCode.ShouldBe(401);
        error.Kind.ShouldBe(CalDavErrorKind.AccessDenied);

        (await Should.ThrowAsync<CalDavAccessDeniedException>(() => client.CreateObjectAsync(ObjectHref("a.ics"), Morning))).StatusCode.ShouldBe(401);
        (await Should.ThrowAsync<CalDavAccessDeniedException>(() => client.SyncCollectionAsync(CalendarHref, null))).StatusCode.ShouldBe(401);
    }
}
