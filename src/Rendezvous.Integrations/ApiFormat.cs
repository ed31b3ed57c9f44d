using System.Net.Mail;
using NodaTime;
using NodaTime.Text;

namespace Rendezvous.Integrations;

/// <summary>How the API writes and reads times: ISO-8601 with an offset, zones as IANA ids, dates as yyyy-MM-dd.</summary>
public static class ApiFormat
{
    /// <summary>RFC 3339 style: "Z" for UTC, otherwise a full "+HH:mm" offset; fractional seconds only when present.</summary>
    private static readonly OffsetDateTimePattern OutputPattern =
        OffsetDateTimePattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd'T'HH':'mm':'ss;FFFFFFFFFo<Z+HH:mm>");

    /// <summary>An instant as local time with offset in <paramref name="zone"/>, e.g. 2027-03-15T10:00:00-04:00.</summary>
    public static string Format(Instant instant, DateTimeZone zone) =>
        OutputPattern.Format(instant.InZone(zone).ToOffsetDateTime());

    /// <summary>An instant in UTC, e.g. 2027-03-15T14:00:00Z.</summary>
    public static string Format(Instant instant) => InstantPattern.ExtendedIso.Format(instant);

    /// <summary>Parses a date-time with an offset (or Z); false for anything else, including local times without an offset.</summary>
    public static bool TryParseInstant(string? text, out Instant instant)
    {
        instant = default;
        if (string.IsNullOrWhiteSpace(text) || text.Length > 64)
        {
            return false;
        }

        var parsed = OffsetDateTimePattern.ExtendedIso.Parse(text.Trim());
        if (!parsed.Success)
        {
            return false;
        }

        instant = parsed.Value.ToInstant();
        return InRange(instant.InUtc().Year);
    }

    /// <summary>
    /// The years the API accepts in dates and times. Far wider than any booking needs, yet far enough inside NodaTime's
    /// and PostgreSQL's ranges that adding a day, a week or a time zone offset to an edge value cannot overflow (year
    /// 9999 and year 0 used to end in 500s).
    /// </summary>
    public const int MinYear = 1000;

    public const int MaxYear = 9000;

    private static bool InRange(int year) => year is >= MinYear and <= MaxYear;

    public static bool TryParseDate(string? text, out LocalDate date)
    {
        date = default;
        if (string.IsNullOrWhiteSpace(text) || text.Length != 10)
        {
            return false;
        }

        var parsed = LocalDatePattern.Iso.Parse(text);
        date = parsed.Success ? parsed.Value : default;
        return parsed.Success && InRange(date.Year);
    }

    /// <summary>A plausible single email address (no display name), normalised to lower case.</summary>
    public static bool TryNormalizeEmail(string? text, out string email)
    {
        email = "";
        if (string.IsNullOrWhiteSpace(text) || text.Length > 254)
        {
            return false;
        }

        var trimmed = text.Trim();
        if (!MailAddress.TryCreate(trimmed, out var address) || address.Address != trimmed || !address.Host.Contains('.', StringComparison.Ordinal))
        {
            return false;
        }

        email = trimmed.ToLowerInvariant();
        return true;
    }

    /// <summary>A required short text: trimmed, 1 to <paramref name="max"/> characters, no control characters.</summary>
    public static bool TryText(string? text, int max, out string value)
    {
        value = text?.Trim() ?? "";
        return value.Length > 0 && value.Length <= max && !value.Any(char.IsControl);
    }

    /// <summary>Who acted, as the API and webhooks name it.</summary>
    public static string ActorName(Rendezvous.Domain.Bookings.ActorKind kind) => kind switch
    {
        Rendezvous.Domain.Bookings.ActorKind.CalendarSync => "calendarSync",
        _ => kind.ToString().ToLowerInvariant(),
    };
}
