using System.Globalization;
using System.Resources;

namespace Rendezvous.Integrations.Localization;

/// <summary>
/// The translations of every text a visitor or an email recipient reads. The English text in the code is the key (and the
/// English wording: there is no English resource), and Texts.de.resx, Texts.fr.resx and Texts.es.resx hold the German,
/// French and Spanish for it; a text without a translation shows in English rather than as a key. Pages read the
/// current request's UI culture (chosen by request localization); emails and .ics files pass the recipient's culture.
/// </summary>
public static class Texts
{
    /// <summary>The resources' base name (Localization/Texts.*.resx in this assembly).</summary>
    public const string BaseName = "Rendezvous.Integrations.Localization.Texts";

    private static readonly ResourceManager Resources = new(BaseName, typeof(Texts).Assembly);

    /// <summary><paramref name="english"/> in the current UI culture's language.</summary>
    public static string T(string english) => Get(english, CultureInfo.CurrentUICulture);

    /// <summary>A composite format (<c>{0}</c>, <c>{1}</c>...) translated, then filled in.</summary>
    public static string T(string english, params object?[] args) => Format(CultureInfo.CurrentUICulture, english, args);

    /// <summary><paramref name="english"/> in <paramref name="culture"/>'s language.</summary>
    public static string Get(string english, CultureInfo culture)
    {
        if (Languages.Of(culture) == Languages.Default)
        {
            return english;
        }

        return Resources.GetString(english, culture) ?? english;
    }

    public static string Format(CultureInfo culture, string english, params object?[] args) =>
        string.Format(culture, Get(english, culture), args);

    /// <summary>
    /// "1 session" / "3 sessions": <paramref name="one"/> or <paramref name="many"/> (both with <c>{0}</c>) by the
    /// language's rule (French counts 0 as singular too).
    /// </summary>
    public static string Plural(long n, string one, string many) => Plural(CultureInfo.CurrentUICulture, n, one, many);

    public static string Plural(CultureInfo culture, long n, string one, string many)
    {
        var singular = Languages.Of(culture) == "fr" ? n is 0 or 1 : n == 1;
        return Format(culture, singular ? one : many, n);
    }

    /// <summary>"1 hour 30 minutes", "45 Minuten", "2 jours".</summary>
    public static string Duration(CultureInfo culture, long minutes)
    {
        if (minutes == 0)
        {
            return Plural(culture, 0, "{0} minute", "{0} minutes");
        }

        var parts = new List<string>();
        var days = minutes / 1440;
        var hours = minutes % 1440 / 60;
        var rest = minutes % 60;
        if (days > 0)
        {
            parts.Add(Plural(culture, days, "{0} day", "{0} days"));
        }

        if (hours > 0)
        {
            parts.Add(Plural(culture, hours, "{0} hour", "{0} hours"));
        }

        if (rest > 0)
        {
            parts.Add(Plural(culture, rest, "{0} minute", "{0} minutes"));
        }

        return string.Join(' ', parts);
    }
}
