namespace Rendezvous.Browser.Tests.Infrastructure;

/// <summary>
/// What the browser tests need from the machine: Debian's Chromium, PostgreSQL (RENDEZVOUS_TEST_DB) and the test SMTP
/// server with its Maildir (RENDEZVOUS_TEST_SMTP_HOST, RENDEZVOUS_TEST_MAILDIR). ./scripts/test provides all three.
/// </summary>
public static class TestEnvironment
{
    public const string ChromiumPath = "/usr/bin/chromium";

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static string? Database => Environment.GetEnvironmentVariable("RENDEZVOUS_TEST_DB");

    public static string? SmtpHost => Environment.GetEnvironmentVariable("RENDEZVOUS_TEST_SMTP_HOST");

    public static int SmtpPort => int.TryParse(Environment.GetEnvironmentVariable("RENDEZVOUS_TEST_SMTP_PORT"), out var p) ? p : 2525;

    public static string? Maildir => Environment.GetEnvironmentVariable("RENDEZVOUS_TEST_MAILDIR");

    public static string? CalDavUrl => Environment.GetEnvironmentVariable("RENDEZVOUS_TEST_CALDAV_URL");

    public static string? CalDavUser => Environment.GetEnvironmentVariable("RENDEZVOUS_TEST_CALDAV_USER");

    public static string? CalDavPassword => Environment.GetEnvironmentVariable("RENDEZVOUS_TEST_CALDAV_PASSWORD");

    /// <summary>Why the browser tests cannot run here, or null. Under CI=true nothing is skipped: a missing service fails.</summary>
    public static string? SkipReason
    {
        get
        {
            if (IsCi)
            {
                return null;
            }

            if (!File.Exists(ChromiumPath))
            {
                return $"{ChromiumPath} is missing; ./scripts/test installs Debian's chromium (ensure_chromium).";
            }

            if (Database is null)
            {
                return "RENDEZVOUS_TEST_DB is not set; ./scripts/test sets it after starting PostgreSQL.";
            }

            return SmtpHost is null || Maildir is null
                ? "RENDEZVOUS_TEST_SMTP_HOST and RENDEZVOUS_TEST_MAILDIR are not set; ./scripts/test starts the SMTP server."
                : null;
        }
    }

    /// <summary>The repository's root: RENDEZVOUS_REPO_ROOT, or the folder above this assembly holding Rendezvous.slnx.</summary>
    public static string RepositoryRoot
    {
        get
        {
            if (Environment.GetEnvironmentVariable("RENDEZVOUS_REPO_ROOT") is { Length: > 0 } root && File.Exists(Path.Combine(root, "Rendezvous.slnx")))
            {
                return root;
            }

            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Rendezvous.slnx")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException("Cannot find the repository root (Rendezvous.slnx); set RENDEZVOUS_REPO_ROOT.");
        }
    }
}

/// <summary>A browser test: skipped locally when Chromium, PostgreSQL or the SMTP server is missing, failed under CI=true.</summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (TestEnvironment.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>A browser test that also needs the test CalDAV server (Radicale, RENDEZVOUS_TEST_CALDAV_URL).</summary>
public sealed class BrowserCalDavFactAttribute : FactAttribute
{
    public BrowserCalDavFactAttribute()
    {
        if (TestEnvironment.SkipReason is { } reason)
        {
            Skip = reason;
        }
        else if (!TestEnvironment.IsCi && TestEnvironment.CalDavUrl is null)
        {
            Skip = "RENDEZVOUS_TEST_CALDAV_URL is not set; ./scripts/test starts Radicale.";
        }
    }
}
