using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using NodaTime;
using Rendezvous.Calendars.ICalendar;
using Rendezvous.Calendars.Sync;
using Rendezvous.Domain;
using MimeKit;
using Rendezvous.Integrations.Notifications.Email;

// Email throughput: how many booking emails a minute one process hands to an SMTP server through the pooled client.
// Each message is written the way the notifier writes it (text, HTML and the booking's invitation, MIME-encoded) and
// sent to its own recipient. Point it at a local server only, e.g. aiosmtpd:
//
//   /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:2527 -c aiosmtpd.handlers.Sink
//   dotnet run -c Release --project bench/Rendezvous.MailThroughput -- --port 2527 [--host 127.0.0.1]
//       [--messages 20000] [--connections 8]

var host = "127.0.0.1";
var port = 2525;
var messages = 20_000;
var connections = 8;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--host": host = args[++i]; break;
        case "--port": port = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--messages": messages = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--connections": connections = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        default: throw new ArgumentException($"Unknown option {args[i]}");
    }
}

if (host is not ("127.0.0.1" or "localhost" or "::1"))
{
    throw new ArgumentException("This driver only talks to a server on this machine.");
}

var options = new SmtpOptions { Host = host, Port = port, MaxConnections = connections, Security = MailKit.Security.SecureSocketOptions.None };
await using var pool = new SmtpClientPool(options, NullLogger<SmtpClientPool>.Instance);
var start = Instant.FromUtc(2027, 3, 15, 14, 0);
var text = """
    Hello Grace Hopper,

    This is a reminder of your Intro call with Ada Lovelace.

    When: Monday, 15 March 2027, 10:00 to 10:30 (America/New_York)
    Where: Video call (link in the confirmation)

    Need to change something? Reschedule or cancel here:
    https://book.example.com/manage/0190c7d2-0000-7000-8000-000000000000

    Acme
    """;

MimeMessage Message(int n)
{
    var id = BookingId.New();
    var ics = BookingCalendarEvent.Write(new BookingEventContent(id, "Intro call with Ada Lovelace", null, "Video call", start, start + Duration.FromMinutes(30),
        false, "Ada Lovelace", "ada@acme.example", "Grace Hopper", $"grace{n}@bench.example", 0, start), ITipMethod.Request);
    return EmailComposer.Compose(new EmailMessage
    {
        From = new MailboxAddress("Acme", "no-reply@acme.example"),
        To = [new MailboxAddress("Grace Hopper", $"grace{n}@bench.example")],
        Subject = "Reminder: Intro call with Ada Lovelace, Monday, 15 March 2027, 10:00 (America/New_York)",
        Date = start,
        MessageId = $"{id.Value:N}@acme.example",
        TextBody = text,
        HtmlBody = "<p>" + text.Replace("\n", "<br>\n", StringComparison.Ordinal) + "</p>",
        Calendar = new CalendarPart(ics, "REQUEST"),
    });
}

using (var sample = new MemoryStream())
{
    Message(0).WriteTo(sample);
    Console.WriteLine($"sending {messages} messages of ~{sample.Length} bytes to {host}:{port} over at most {connections} connections");
}

var cpu = Process.GetCurrentProcess().TotalProcessorTime;
var clock = Stopwatch.StartNew();
var failures = 0;
var next = -1;
var workers = Enumerable.Range(0, connections * 2).Select(async _ =>
{
    int n;
    while ((n = Interlocked.Increment(ref next)) < messages)
    {
        try
        {
            await pool.SendAsync(Message(n), CancellationToken.None);
        }
        catch (MailDeliveryException)
        {
            Interlocked.Increment(ref failures);
        }
    }
});
await Task.WhenAll(workers);
var seconds = clock.Elapsed.TotalSeconds;
var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{messages - failures} sent, {failures} failed in {seconds:F1} s: {(messages - failures) / seconds:F0}/s = {(messages - failures) / seconds * 60:F0}/min; "
    + $"{pool.ConnectionsOpened} connections; client CPU {cpuSeconds:F1} s ({cpuSeconds * 1000 / messages:F2} ms/message)"));
