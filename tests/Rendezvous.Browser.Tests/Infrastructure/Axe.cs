using System.Text.Json;
using Microsoft.Playwright;

namespace Rendezvous.Browser.Tests.Infrastructure;

/// <summary>
/// axe-core (installed from npm by scripts/lib.sh ensure_axe, RENDEZVOUS_TEST_AXE) run inside a page: the rules it
/// finds broken with a serious or critical impact, each named with the elements that break it.
/// </summary>
public static class Axe
{
    private static readonly Lazy<string> Source = new(() => File.ReadAllText(ScriptPath));

    public static string ScriptPath =>
        Environment.GetEnvironmentVariable("RENDEZVOUS_TEST_AXE") is { Length: > 0 } path
            ? path
            : Path.Combine(TestEnvironment.RepositoryRoot, "tests", "Rendezvous.Browser.Tests", "axe", "node_modules", "axe-core", "axe.min.js");

    /// <summary>The serious and critical violations on the page as it is now ("rule: target, target (help)").</summary>
    public static async Task<IReadOnlyList<string>> SeriousViolationsAsync(IPage page)
    {
        if (!File.Exists(ScriptPath))
        {
            throw new InvalidOperationException($"{ScriptPath} is missing; scripts/lib.sh ensure_axe installs axe-core with npm.");
        }

        // Evaluated through the DevTools protocol, which the pages' Content-Security-Policy (script-src 'self') does not
        // govern; a <script> tag would be refused by it.
        if (!await page.EvaluateAsync<bool>("() => typeof window.axe === 'object'"))
        {
            await page.EvaluateAsync(Source.Value + "\n;undefined");
        }

        var json = await page.EvaluateAsync<string>("""
            async () => {
              const result = await window.axe.run(document, { resultTypes: ['violations'] });
              return JSON.stringify(result.violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => v.id + ' [' + v.impact + ']: ' + v.nodes.slice(0, 5).map(n => n.target.join(' ')).join(', ') + ' (' + v.help + ')'));
            }
            """);
        return JsonSerializer.Deserialize<string[]>(json) ?? [];
    }

    /// <summary>Collects <paramref name="page"/>'s serious and critical violations into <paramref name="found"/>, under its address.</summary>
    public static async Task CollectAsync(IPage page, List<string> found)
    {
        foreach (var violation in await SeriousViolationsAsync(page))
        {
            found.Add($"{new Uri(page.Url).PathAndQuery}: {violation}");
        }
    }
}
