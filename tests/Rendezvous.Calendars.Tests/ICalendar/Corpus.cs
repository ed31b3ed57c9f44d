namespace Rendezvous.Calendars.Tests.ICalendar;

/// <summary>
/// Finds the shared iCalendar corpus: the folder <c>shared/ical-corpus</c> that sits next to the repository
/// (worktrees live in /work/&lt;name&gt; and the corpus in /work/shared). We walk up from the test binary and
/// look, at each level, for <c>shared/ical-corpus</c> beside it.
/// </summary>
internal static class Corpus
{
    private static readonly Lazy<string?> Root = new(Find);

    public static string? Directory => Root.Value;

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The corpus folder. Under CI=true a missing corpus fails the test; elsewhere the caller skips explicitly.
    /// </summary>
    public static string Require()
    {
        if (Directory is { } found)
        {
            return found;
        }

        throw new InvalidOperationException(
            "The iCalendar corpus (shared/ical-corpus next to the repository) was not found walking up from " + AppContext.BaseDirectory);
    }

    public static string PathOf(string relative) => Path.Combine(Require(), relative.Replace('/', Path.DirectorySeparatorChar));

    public static string Read(string relative) => File.ReadAllText(PathOf(relative));

    public static IEnumerable<string> AllFiles() =>
        System.IO.Directory.EnumerateFiles(Require(), "*.ics", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Require(), f).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal);

    private static string? Find()
    {
        // RENDEZVOUS_SHARED_DIR names the shared folder outright (./scripts/test sets it when it finds one).
        if (Environment.GetEnvironmentVariable("RENDEZVOUS_SHARED_DIR") is { Length: > 0 } shared
            && System.IO.Directory.Exists(Path.Combine(shared, "ical-corpus")))
        {
            return Path.Combine(shared, "ical-corpus");
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "ical-corpus");
            if (System.IO.Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
