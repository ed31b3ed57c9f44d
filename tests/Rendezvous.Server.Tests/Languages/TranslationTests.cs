using System.Collections;
using System.Resources;
using System.Text.RegularExpressions;
using Rendezvous.Domain;
using Rendezvous.Integrations.Localization;
using Rendezvous.Integrations.Notifications;
using Rendezvous.Integrations.Notifications.Templates;
using Shouldly;

namespace Rendezvous.Server.Tests.Languages;

/// <summary>The translations themselves: complete, with the same placeholders as the English, and used by every default email.</summary>
public sealed partial class TranslationTests
{
    private static Dictionary<string, string> Entries(string code)
    {
        var manager = new ResourceManager(Texts.BaseName, typeof(Texts).Assembly);
        var set = manager.GetResourceSet(Rendezvous.Integrations.Localization.Languages.Culture(code), createIfNotExists: true, tryParents: false)
            ?? throw new InvalidOperationException($"No resources for {code}.");
        return set.Cast<DictionaryEntry>().ToDictionary(e => (string)e.Key, e => (string)e.Value!);
    }

    [Fact]
    public void German_french_and_spanish_translate_the_same_texts_with_the_same_placeholders()
    {
        var german = Entries("de");
        german.Count.ShouldBeGreaterThan(200);
        foreach (var code in new[] { "de", "fr", "es" })
        {
            var entries = Entries(code);
            entries.Keys.Order(StringComparer.Ordinal).ShouldBe(german.Keys.Order(StringComparer.Ordinal), $"{code} has the same texts as de");
            foreach (var (english, translated) in entries)
            {
                translated.ShouldNotBeNullOrWhiteSpace($"{code}: {english}");
                Placeholders(translated).ShouldBe(Placeholders(english), $"{code}: \"{translated}\" keeps the placeholders of \"{english}\"");
            }
        }
    }

    [Fact]
    public void Every_default_email_is_translated_line_by_line()
    {
        foreach (var kind in Enum.GetValues<NotificationKind>())
        {
            foreach (var audience in Enum.GetValues<TemplateAudience>())
            {
                var english = DefaultTemplates.For(kind, audience, "en");
                foreach (var code in new[] { "de", "fr", "es" })
                {
                    var translated = DefaultTemplates.For(kind, audience, code);
                    translated.Subject.ShouldNotBe(english.Subject, $"{kind}/{audience} subject in {code}");
                    var englishLines = english.Text.Split('\n').Where(l => l.Length > 0 && !l.StartsWith("{{", StringComparison.Ordinal)).ToList();
                    foreach (var line in englishLines)
                    {
                        translated.Text.ShouldNotContain(line, customMessage: $"{kind}/{audience} in {code} still has the English \"{line}\"");
                    }
                }
            }
        }
    }

    private static List<string> Placeholders(string text) => [.. PlaceholderPattern().Matches(text).Select(m => m.Value).Order(StringComparer.Ordinal)];

    [GeneratedRegex(@"\{\d+(?::[^}]*)?\}|\{\{[a-z.]+\}\}")]
    private static partial Regex PlaceholderPattern();
}
