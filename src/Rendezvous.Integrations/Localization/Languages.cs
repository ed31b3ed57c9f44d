using System.Collections.Concurrent;
using System.Globalization;
using NodaTime;
using NodaTime.Text;

namespace Rendezvous.Integrations.Localization;

/// <summary>
/// The languages the public pages, the emails and the .ics text are written in: English (the default, and the language
/// of every text in the code), German, French and Spanish. A language is stored and passed as its two-letter code.
/// </summary>
public static class Languages
{
    public const string Default = "en";

    /// <summary>The codes, in the order the switcher lists them.</summary>
    public static IReadOnlyList<string> Codes { get; } = ["en", "de", "fr", "es"];

    /// <summary>Each language's name in itself, as the switcher shows it.</summary>
    public static string NativeName(string code) => code switch
    {
        "de" => "Deutsch",
        "fr" => "Français",
        "es" => "Español",
        _ => "English",
    };

    public static bool IsSupported(string? code) => code is not null && Codes.Contains(code, StringComparer.Ordinal);

    /// <summary>A supported code from any culture or language tag ("de-AT" is German); English otherwise.</summary>
    public static string Normalize(string? tag)
    {
        if (string.IsNullOrWhiteSpace(tag))
        {
            return Default;
        }

        var code = tag.Split('-', '_')[0].Trim().ToLowerInvariant();
        return IsSupported(code) ? code : Default;
    }

    private static readonly ConcurrentDictionary<string, CultureInfo> Cultures = new(StringComparer.Ordinal);

    /// <summary>
    /// The culture texts and dates of <paramref name="code"/> are written with: named after the language (which is what
    /// finds its resources) and carrying the language's day and month names. The server runs in invariant globalization
    /// mode (no ICU), so cultures have no data of their own; the names come from <see cref="CalendarNames"/> instead.
    /// </summary>
    public static CultureInfo Culture(string? code) => Cultures.GetOrAdd(Normalize(code), c =>
    {
        var culture = new CultureInfo(c);
        var names = CalendarNames.Of(c);
        var format = culture.DateTimeFormat;
        format.DayNames = names.Days;
        format.AbbreviatedDayNames = names.ShortDays;
        format.ShortestDayNames = names.ShortDays;
        format.MonthNames = names.Months;
        format.MonthGenitiveNames = names.Months;
        format.AbbreviatedMonthNames = names.ShortMonths;
        format.AbbreviatedMonthGenitiveNames = names.ShortMonths;
        return culture;
    });

    /// <summary>The language <paramref name="culture"/> stands for (by its name; invariant mode gives cultures no other data).</summary>
    public static string Of(CultureInfo culture) => Normalize(culture.Name);

    /// <summary>The language of the culture the current request or email is written in.</summary>
    public static string Current => Of(CultureInfo.CurrentUICulture);
}

/// <summary>Day and month names per language (Sunday first, as .NET orders days; 13 months, the last empty).</summary>
public sealed record CalendarNames(string[] Days, string[] ShortDays, string[] Months, string[] ShortMonths)
{
    public static CalendarNames Of(string code) => code switch
    {
        "de" => new(
            ["Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"],
            ["So.", "Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa."],
            ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember", ""],
            ["Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.", "Dez.", ""]),
        "fr" => new(
            ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
            ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
            ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre", ""],
            ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.", ""]),
        "es" => new(
            ["domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"],
            ["dom.", "lun.", "mar.", "mié.", "jue.", "vie.", "sáb."],
            ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre", ""],
            ["ene.", "feb.", "mar.", "abr.", "may.", "jun.", "jul.", "ago.", "sept.", "oct.", "nov.", "dic.", ""]),
        _ => new(
            ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
            ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
            ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December", ""],
            ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", ""]),
    };
}

/// <summary>
/// Dates and times as each language writes them (day and month names from the culture, the order and punctuation from
/// the patterns below): "Monday 15 March 2027, 10:00", "Montag, 15. März 2027, 10:00", "lundi 15 mars 2027, 10:00",
/// "lunes, 15 de marzo de 2027, 10:00". Always 24-hour, so the four read alike.
/// </summary>
public static class DatePatterns
{
    private sealed record Set(LocalDateTimePattern When, LocalDatePattern Date, LocalDatePattern ShortDate, LocalDatePattern Month,
        LocalTimePattern Time, LocalDateTimePattern EmailWhen);

    private static readonly ConcurrentDictionary<string, Set> Sets = new(StringComparer.Ordinal);

    private static Set For(CultureInfo culture)
    {
        var code = Languages.Of(culture);
        return Sets.GetOrAdd(code, c =>
        {
            var ci = Languages.Culture(c);
            var (when, date, shortDate, month, emailWhen) = c switch
            {
                "de" => ("dddd, d. MMMM uuuu, HH:mm", "dddd, d. MMMM uuuu", "ddd d. MMM", "MMMM uuuu", "dddd, d. MMMM uuuu, HH:mm"),
                "fr" => ("dddd d MMMM uuuu, HH:mm", "dddd d MMMM uuuu", "ddd d MMM", "MMMM uuuu", "dddd d MMMM uuuu, HH:mm"),
                "es" => ("dddd, d 'de' MMMM 'de' uuuu, HH:mm", "dddd, d 'de' MMMM 'de' uuuu", "ddd d MMM", "MMMM 'de' uuuu",
                    "dddd, d 'de' MMMM 'de' uuuu, HH:mm"),
                // English keeps the forms the pages and emails always had.
                _ => ("dddd d MMMM uuuu, HH:mm", "dddd d MMMM uuuu", "ddd d MMM", "MMMM uuuu", "dddd, d MMMM uuuu, HH:mm"),
            };
            return new Set(LocalDateTimePattern.Create(when, ci), LocalDatePattern.Create(date, ci), LocalDatePattern.Create(shortDate, ci),
                LocalDatePattern.Create(month, ci), LocalTimePattern.Create("HH:mm", ci), LocalDateTimePattern.Create(emailWhen, ci));
        });
    }

    public static string When(LocalDateTime value, CultureInfo culture) => Capitalized(For(culture).When.Format(value), culture);

    public static string Date(LocalDate value, CultureInfo culture) => Capitalized(For(culture).Date.Format(value), culture);

    public static string ShortDate(LocalDate value, CultureInfo culture) => Capitalized(For(culture).ShortDate.Format(value), culture);

    public static string Month(LocalDate value, CultureInfo culture) => Capitalized(For(culture).Month.Format(value), culture);

    public static string Time(LocalTime value, CultureInfo culture) => For(culture).Time.Format(value);

    /// <summary>The start of an email's date line: "Monday, 15 March 2027, 10:00".</summary>
    public static string EmailWhen(LocalDateTime value, CultureInfo culture) => For(culture).EmailWhen.Format(value);

    /// <summary>
    /// French and Spanish write day and month names in lower case; a date that starts a line or a heading still starts
    /// with a capital, as it would in a printed text.
    /// </summary>
    private static string Capitalized(string text, CultureInfo culture) =>
        text.Length > 0 && char.IsLower(text[0]) ? char.ToUpper(text[0], culture) + text[1..] : text;
}
