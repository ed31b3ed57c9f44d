using NodaTime;

namespace Rendezvous.Calendars.ICalendar;

/// <summary>
/// A typed view of one VCALENDAR: its iTIP METHOD and its events. Read with <see cref="ICalendarReader"/>,
/// or build one in code and write it with <see cref="ICalendarWriter"/>.
/// </summary>
public sealed class CalendarDocument
{
    /// <summary>The PRODID written when none is given.</summary>
    public const string DefaultProductId = "-//Rendezvous//Rendezvous Calendars//EN";

    /// <summary>METHOD (RFC 5546); null when absent, as in a CalDAV resource.</summary>
    public ITipMethod? Method { get; init; }

    /// <summary>PRODID; <see cref="DefaultProductId"/> is written when null.</summary>
    public string? ProductId { get; init; }

    /// <summary>VERSION as read; the writer always writes 2.0.</summary>
    public string? Version { get; init; }

    public IReadOnlyList<CalendarEvent> Events { get; init; } = [];

    /// <summary>The VCALENDAR this was read from (with every component, including unknown ones); null when built in code.</summary>
    public CalendarComponent? Source { get; private init; }

    /// <summary>Resolves TZIDs against tzdb and this calendar's VTIMEZONEs.</summary>
    public CalendarTimeZoneResolver TimeZones { get; private init; } = CalendarTimeZoneResolver.WellKnownOnly;

    /// <summary>
    /// Reads the typed view of a VCALENDAR component. Throws <see cref="ICalendarParseException"/> when a typed
    /// property of an event is malformed, and <see cref="ArgumentException"/> for a component that is not VCALENDAR.
    /// </summary>
    public static CalendarDocument FromComponent(CalendarComponent vcalendar) => FromComponent(vcalendar, null);

    /// <inheritdoc cref="FromComponent(CalendarComponent)"/>
    /// <remarks>With <see cref="ICalendarReaderOptions.SkipInvalidEvents"/>, unreadable events are reported and left out.</remarks>
    public static CalendarDocument FromComponent(CalendarComponent vcalendar, ICalendarReaderOptions? options)
    {
        options ??= ICalendarReaderOptions.Strict;
        ArgumentNullException.ThrowIfNull(vcalendar);
        if (vcalendar.Name != "VCALENDAR")
        {
            throw new ArgumentException($"Expected VCALENDAR, got {vcalendar.Name}.", nameof(vcalendar));
        }

        var resolver = new CalendarTimeZoneResolver(vcalendar.FindComponents("VTIMEZONE"));
        var method = vcalendar.FindProperty("METHOD")?.GetText().Trim();
        return new CalendarDocument
        {
            Method = string.IsNullOrEmpty(method) ? null : ITipMethod.FromFile(method),
            ProductId = vcalendar.FindProperty("PRODID")?.GetText(),
            Version = vcalendar.FindProperty("VERSION")?.GetText(),
            Events = ReadEvents(vcalendar, resolver, options),
            Source = vcalendar,
            TimeZones = resolver,
        };
    }

    /// <summary>
    /// Builds the VCALENDAR: PRODID, VERSION, CALSCALE, METHOD, a VTIMEZONE for every zone an event uses
    /// (a VTIMEZONE that was read is written back unchanged; others are generated from tzdb for the years the
    /// events need), then the events.
    /// </summary>
    public CalendarComponent ToComponent()
    {
        var vcalendar = new CalendarComponent("VCALENDAR")
            .AddText("PRODID", ProductId ?? DefaultProductId)
            .AddProperty(new CalendarProperty("VERSION", "2.0"))
            .AddProperty(new CalendarProperty("CALSCALE", "GREGORIAN"));
        if (Method is { } method)
        {
            vcalendar.AddProperty(new CalendarProperty("METHOD", method.Value));
        }

        foreach (var vtimezone in TimeZoneComponents())
        {
            vcalendar.AddComponent(vtimezone);
        }

        foreach (var item in Events)
        {
            vcalendar.AddComponent(item.ToComponent());
        }

        return vcalendar;
    }

    /// <summary>
    /// Every occurrence of every event overlapping [from, to), with overrides applied (see
    /// <see cref="RecurrenceExpander.ExpandAll"/>). DATE values and floating times are read in <paramref name="localZone"/>.
    /// </summary>
    public OccurrenceSet GetOccurrences(Instant from, Instant to, DateTimeZone localZone, RecurrenceExpansionOptions? options = null) =>
        RecurrenceExpander.ExpandAll(Events, from, to, localZone, options);

    private static List<CalendarEvent> ReadEvents(CalendarComponent vcalendar, CalendarTimeZoneResolver resolver, ICalendarReaderOptions options)
    {
        var events = new List<CalendarEvent>();
        foreach (var vevent in vcalendar.FindComponents("VEVENT"))
        {
            try
            {
                events.Add(CalendarEvent.FromComponent(vevent, resolver));
            }
            catch (ICalendarParseException skipped) when (options.SkipInvalidEvents)
            {
                options.OnSkipped?.Invoke(skipped);
            }
        }

        return events;
    }

    private List<CalendarComponent> TimeZoneComponents()
    {
        var result = new List<CalendarComponent>();
        var zoned = Events
            .SelectMany(e => e.ZonedValues().Select(v => (Event: e, Value: v)))
            .Where(x => x.Value.Zone is not null)
            .GroupBy(x => x.Value.TzId!, StringComparer.Ordinal);
        foreach (var group in zoned)
        {
            var zone = group.First().Value.Zone!;
            if (zone is VTimeZoneDateTimeZone fromFile)
            {
                result.Add(fromFile.Source);
                continue;
            }

            var instants = group.Select(x => x.Value.ToInstant(zone)).ToList();
            var from = TimeMath.Plus(instants.Min(), -Duration.FromDays(366));
            var to = TimeMath.Plus(instants.Max(), Duration.FromDays(366));
            if (group.Any(x => x.Event.RecurrenceRules.Count > 0))
            {
                // Recurring events need the zone for as long as they recur; ten years covers a booking system.
                to = TimeMath.Plus(to, Duration.FromDays(3653));
            }

            result.Add(VTimeZoneGenerator.Generate(zone, from, to, group.Key));
        }

        return result;
    }
}
