using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MailKit.Net.Imap;
using MailKit.Security;
using MimeKit;
using Rendezvous.Calendars.CalDav;
using Rendezvous.Calendars.ICalendar;

// Space invitation latency (seed 004: "the sync will take 30-40 seconds"): how long from an organizer's invitation to
// the space's answer reaching the organizer, for an auto-accept space, through the two channels that run here:
//   caldav: the organizer saves a meeting with the room as attendee on the scheduling Cyrus; timed until the organizer's
//           own copy shows the room's PARTSTAT (Cyrus delivered the REPLY Rendezvous caused).
//   imip:   an invitation email lands in the room's Dovecot mailbox; timed until the iTIP REPLY is in the SMTP Maildir.
// Run through bench/space-latency, which starts the servers. Everything stays on 127.0.0.1; loops are bounded.
//
//   dotnet run -c Release --project bench/Rendezvous.SpaceLatency -- --url URL --key KEY --cyrus URL --cyrus-password P
//       --organizer U --room U --imap-port N --imap-password P --imap-user U --maildir DIR [--invitations 50]

var o = Options.Parse(args);
using var api = new HttpClient { BaseAddress = o.Url, Timeout = TimeSpan.FromSeconds(30) };
api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", o.Key);
var run = Guid.NewGuid().ToString("N")[..8];
// Each run books its own stretch of the future, far from earlier runs' invitations still in the room's calendar.
var firstHour = DateTime.UtcNow.Date.AddDays(400 + Random.Shared.Next(3000));

var roomEmail = o.Room + "@localhost";
var caldavSpace = await SpaceAsync("CalDAV room " + run, "caldav", roomEmail);
await PutAsync(api, $"/api/v1/spaces/{caldavSpace}/channel", new
{
    kind = "caldav", address = roomEmail, serverUrl = o.Cyrus.ToString(), userName = o.Room, password = o.CyrusPassword,
});
var mailEmail = o.ImapUser + "@rooms.bench.example";
var imipSpace = await SpaceAsync("Mail room " + run, "imip", mailEmail);
await PutAsync(api, $"/api/v1/spaces/{imipSpace}/channel", new
{
    kind = "imip", address = mailEmail, imapHost = "127.0.0.1", imapPort = o.ImapPort, imapSecurity = "None",
    userName = o.ImapUser, password = o.ImapPassword,
});

using var organizer = new CalDavClient(new CalDavClientOptions { ServerUri = o.Cyrus, UserName = o.Organizer, Password = o.CyrusPassword });
var results = new Dictionary<string, List<double>> { ["caldav"] = [], ["imip"] = [] };
// One warm-up round each (the first poll reads the calendar's and mailbox's history), not counted.
for (var i = -1; i < o.Invitations; i++)
{
    var start = firstHour.AddHours(i + 1);
    var caldav = await CalDavRoundAsync($"bench-{run}-{i + 1}", start);
    var imip = await ImipRoundAsync($"bench-mail-{run}-{i + 1}", start);
    if (i >= 0)
    {
        results["caldav"].Add(caldav);
        results["imip"].Add(imip);
    }
}

foreach (var (path, samples) in results)
{
    samples.Sort();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{path,-7} invitations={samples.Count} p50={Pct(samples, 0.50):F0} ms p95={Pct(samples, 0.95):F0} ms max={samples[^1]:F0} ms"));
}

return 0;

async Task<double> CalDavRoundAsync(string uid, DateTime start)
{
    var href = $"/dav/calendars/user/{o.Organizer}/Default/{uid}.ics";
    var clock = Stopwatch.StartNew();
    var put = await organizer.CreateObjectAsync(href, Ics(uid, start, $"mailto:{o.Organizer}@localhost", roomEmail, null));
    if (!put.Succeeded)
    {
        throw new InvalidOperationException($"The organizer's PUT of {uid} failed: {put.Outcome}.");
    }

    while (clock.Elapsed < TimeSpan.FromSeconds(120))
    {
        var copy = await organizer.GetObjectAsync(href);
        var status = copy is null ? null : ICalendarReader.Parse(copy.CalendarData).Events[0].Attendees
            .FirstOrDefault(a => a.Email == roomEmail)?.Status.Value;
        if (status is not null and not "NEEDS-ACTION")
        {
            return clock.Elapsed.TotalMilliseconds;
        }

        await Task.Delay(10);
    }

    throw new TimeoutException($"No answer to {uid} through CalDAV within 120 s.");
}

async Task<double> ImipRoundAsync(string uid, DateTime start)
{
    var organizerEmail = $"{uid}@corp.bench.example";
    var message = new MimeMessage { Subject = "Invitation: bench" };
    message.From.Add(new MailboxAddress("Bench Organizer", organizerEmail));
    message.To.Add(new MailboxAddress(null, mailEmail));
    var calendar = new TextPart("calendar") { Text = Ics(uid, start, "mailto:" + organizerEmail, mailEmail, "REQUEST") };
    calendar.ContentType.Parameters.Add("method", "REQUEST");
    message.Body = calendar;
    var seen = new HashSet<string>(Directory.GetFiles(Path.Combine(o.Maildir, "new")));
    using var imap = new ImapClient();
    await imap.ConnectAsync("127.0.0.1", o.ImapPort, SecureSocketOptions.None);
    await imap.AuthenticateAsync(o.ImapUser, o.ImapPassword);
    var clock = Stopwatch.StartNew();
    // APPEND is the delivery: the message is in the INBOX when the server answers, as after an LMTP delivery.
    await imap.Inbox.AppendAsync(new MailKit.AppendRequest(message));
    while (clock.Elapsed < TimeSpan.FromSeconds(120))
    {
        foreach (var file in Directory.GetFiles(Path.Combine(o.Maildir, "new")))
        {
            if (seen.Add(file) && File.ReadAllText(file).Contains(organizerEmail, StringComparison.Ordinal))
            {
                var elapsed = clock.Elapsed.TotalMilliseconds;
                await imap.DisconnectAsync(true);
                return elapsed;
            }
        }

        await Task.Delay(10);
    }

    throw new TimeoutException($"No iMIP reply to {uid} within 120 s.");
}

async Task<string> SpaceAsync(string name, string kind, string address)
{
    using var response = await api.PostAsJsonAsync("/api/v1/spaces", new
    {
        name, kind = "room", capacity = 10, timeZone = "UTC", administration = "autoAccept",
        resourceCalendarKind = kind, resourceCalendarAddress = address,
    });
    var body = await response.Content.ReadAsStringAsync();
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"POST /api/v1/spaces: {(int)response.StatusCode} {body}");
    }

    return JsonNode.Parse(body)!["id"]!.GetValue<string>();
}

static async Task PutAsync(HttpClient api, string path, object body)
{
    using var response = await api.PutAsJsonAsync(path, body);
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"PUT {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}

static string Ics(string uid, DateTime start, string organizer, string attendee, string? method) => string.Join("\r\n",
    new[]
    {
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Rendezvous bench//EN", method is null ? null : "METHOD:" + method, "BEGIN:VEVENT",
        "UID:" + uid, "DTSTAMP:20261206T100000Z",
        "DTSTART:" + start.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture),
        "DTEND:" + start.AddMinutes(50).ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture),
        "SUMMARY:Bench meeting", "SEQUENCE:0",
        "ORGANIZER;CN=Bench Organizer:" + organizer,
        "ATTENDEE;CUTYPE=ROOM;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:" + attendee,
        "END:VEVENT", "END:VCALENDAR", "",
    }.Where(l => l is not null));

static double Pct(List<double> sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

internal sealed record Options(Uri Url, string Key, Uri Cyrus, string CyrusPassword, string Organizer, string Room, int ImapPort,
    string ImapUser, string ImapPassword, string Maildir, int Invitations)
{
    public static Options Parse(string[] args)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            map[args[i].TrimStart('-')] = args[i + 1];
        }

        string Need(string k) => map.TryGetValue(k, out var v) ? v : throw new ArgumentException($"--{k} is required.");
        return new Options(new Uri(Need("url")), Need("key"), new Uri(Need("cyrus")), Need("cyrus-password"), Need("organizer"), Need("room"),
            int.Parse(Need("imap-port"), CultureInfo.InvariantCulture), Need("imap-user"), Need("imap-password"), Need("maildir"),
            map.TryGetValue("invitations", out var n) ? int.Parse(n, CultureInfo.InvariantCulture) : 50);
    }
}
