using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Organizations;
using Rendezvous.Server.Features.Availability;
using Rendezvous.Server.Features.Bookings;
using Rendezvous.Server.Features.StaffAuth;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Cli;

public sealed class BootstrapOptions
{
    /// <summary>Slug of the organization to create at start when it does not exist yet.</summary>
    public string? Organization { get; set; }

    /// <summary>The API key its first administrator gets (at least 16 characters).</summary>
    public string? ApiKey { get; set; }

    public string? AdminName { get; set; }

    public string? AdminEmail { get; set; }

    public string TimeZone { get; set; } = "Europe/London";

    /// <summary>
    /// The administrator's password for the web application (10+ characters). Set only while they have none, so a
    /// password changed later in the application is kept.
    /// </summary>
    public string? AdminPassword { get; set; }
}

/// <summary>What runs before the server listens: migrations, the bootstrap organization, and the optional demo data.</summary>
public static partial class Startup
{
    public static async Task MigrateAsync(IServiceProvider services, CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
        await db.Database.MigrateAsync(ct);
    }

    /// <summary>Creates the bootstrap organization with its administrator and key, unless it exists. Returns its id.</summary>
    public static async Task<OrganizationId?> BootstrapAsync(IServiceProvider services, BootstrapOptions options, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(options.Organization) || string.IsNullOrWhiteSpace(options.ApiKey))
        {
            return null;
        }

        if (options.ApiKey.Length < 16)
        {
            throw new InvalidOperationException("Rendezvous__Bootstrap__ApiKey must be at least 16 characters.");
        }

        var slug = options.Organization.Trim().ToLowerInvariant();
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
        var clock = scope.ServiceProvider.GetRequiredService<IClock>();
        if (options.AdminPassword is { } password && StaffAccounts.CheckPassword(password) is { } problem)
        {
            throw new InvalidOperationException($"Rendezvous__Bootstrap__AdminPassword {problem}.");
        }

        if (ReservedOrganizationSlugs.Contains(slug))
        {
            throw new InvalidOperationException($"'{slug}' cannot be an organization's slug: the web application uses that address.");
        }

        // Several processes may start at once against an empty database (a cluster, a rolling deploy): the lock makes
        // the others wait for the first one's organization and find it, instead of failing on the unique slug.
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.LockAsync("bootstrap:" + slug, ct);
        var existing = await db.Organizations.FirstOrDefaultAsync(o => o.Slug == slug, ct);
        if (existing is not null)
        {
            await SetAdminPasswordAsync(scope.ServiceProvider, existing.Id, options, ct);
            await tx.CommitAsync(ct);
            return existing.Id;
        }

        var now = clock.GetCurrentInstant();
        var org = new Organization(OrganizationId.New(), System.Globalization.CultureInfo.InvariantCulture.TextInfo.ToTitleCase(slug.Replace('-', ' ')), slug, now);
        var admin = new User(UserId.New(), org.Id, options.AdminName ?? "Administrator",
            (options.AdminEmail ?? $"admin@{slug}.example").ToLowerInvariant(), options.TimeZone, UserRole.Administrator, now);
        // The model declares no navigations between these, so save parent rows first (inside the transaction).
        db.Organizations.Add(org);
        await db.SaveChangesAsync(ct);
        db.Users.Add(admin);
        await db.SaveChangesAsync(ct);
        db.ApiKeys.Add(new ApiKey
        {
            Id = Guid.CreateVersion7(),
            OrganizationId = org.Id,
            UserId = admin.Id,
            Name = "bootstrap",
            Prefix = ApiKeys.PrefixOf(options.ApiKey),
            KeyHash = ApiKeys.Hash(options.ApiKey),
            // The organization's first key does everything its administrator may.
            Scopes = [.. ApiScopes.All],
            CreatedAt = now,
        });
        await db.SaveChangesAsync(ct);
        await SetAdminPasswordAsync(scope.ServiceProvider, org.Id, options, ct);
        await tx.CommitAsync(ct);
        return org.Id;
    }

    /// <summary>
    /// First path segments the web application owns; an organization with one of these slugs could not be reached at
    /// /{organization}/{page}.
    /// </summary>
    public static IReadOnlySet<string> ReservedOrganizationSlugs { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "api", "app", "embed", "embed.js", "manage", "portal", "payments", "openapi", "health", "metrics", "css", "js", "img", "favicon.ico",
        "language",
    };

    private static async Task SetAdminPasswordAsync(IServiceProvider services, OrganizationId org, BootstrapOptions options, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(options.AdminPassword))
        {
            return;
        }

        var db = services.GetRequiredService<RendezvousDbContext>();
        var email = options.AdminEmail?.Trim().ToLowerInvariant();
        var admins = await db.Users.AcrossTenants()
            .Where(u => u.OrganizationId == org && u.Role == UserRole.Administrator)
            .OrderBy(u => u.CreatedAt)
            .ToListAsync(ct);
        var admin = admins.FirstOrDefault(u => u.Email == email) ?? admins.FirstOrDefault();
        var accounts = new StaffAccounts(db, services.GetRequiredService<Rendezvous.Server.Features.Security.SignInThrottle>());
        if (admin is not null && !await accounts.HasPasswordAsync(admin.Id, ct))
        {
            await accounts.SetPasswordAsync(admin, options.AdminPassword, ct);
        }
    }

    /// <summary>
    /// Fills the organization with a second user, four booking pages (one of each scheduling option) and a few bookings.
    /// Idempotent: a page that exists is left alone, and bookings are only made for pages created now.
    /// </summary>
    public static async Task SeedDemoAsync(IServiceProvider services, OrganizationId orgId, CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
        var clock = scope.ServiceProvider.GetRequiredService<IClock>();
        db.TenantId = orgId;
        var now = clock.GetCurrentInstant();
        var admin = await db.Users.Where(u => u.Role == UserRole.Administrator).OrderBy(u => u.CreatedAt).FirstAsync(ct);
        var member = await db.Users.FirstOrDefaultAsync(u => u.Email == "max@demo.example", ct);
        if (member is null)
        {
            member = new User(UserId.New(), orgId, "Max Member", "max@demo.example", "America/New_York", UserRole.Member, now);
            db.Users.Add(member);
            await db.SaveChangesAsync(ct);
        }

        var weekdays = new[] { "monday", "tuesday", "wednesday", "thursday", "friday" };
        WeeklyHoursSpec[] Hours(string start, string end) => [.. weekdays.Select(d => new WeeklyHoursSpec(d, start, end))];
        var pages = new (string Slug, string Title, UserId Owner, BookingPageSettingsSpec Spec, int Bookings)[]
        {
            ("demo-intro-call", "Intro call", admin.Id, new BookingPageSettingsSpec
            {
                DurationMinutes = 30, TimeZone = "Europe/London", WeeklyHours = Hours("09:00", "17:00"), BufferAfterMinutes = 10,
                MinimumNoticeMinutes = 120, CancellationPolicy = new ChangePolicySpec("upTo", 1440),
                Questions = [new QuestionSpec("topic", "What would you like to talk about?", false)],
            }, 3),
            ("demo-team-panel", "Panel interview", admin.Id, new BookingPageSettingsSpec
            {
                DurationMinutes = 60, TimeZone = "Europe/London", WeeklyHours = Hours("13:00", "18:00"), SchedulingOption = "panel",
                PanelMemberIds = [member.Id.ToString()],
            }, 1),
            ("demo-workshop", "Onboarding workshop", member.Id, new BookingPageSettingsSpec
            {
                DurationMinutes = 90, TimeZone = "America/New_York", WeeklyHours = [new("tuesday", "10:00", "11:30"), new("thursday", "10:00", "11:30")],
                SchedulingOption = "groupSession", SeatsPerSlot = 8,
            }, 2),
            ("demo-coaching-package", "Coaching package (3 sessions)", member.Id, new BookingPageSettingsSpec
            {
                DurationMinutes = 45, TimeZone = "America/New_York", WeeklyHours = Hours("09:00", "12:00"), SchedulingOption = "sessionPackage",
                SessionCount = 3, ReschedulePolicy = new ChangePolicySpec("upTo", 720),
            }, 0),
        };

        var customers = new[] { ("Grace Hopper", "grace@customer.example"), ("Alan Turing", "alan@customer.example"), ("Katherine Johnson", "katherine@customer.example") };
        foreach (var (slug, title, owner, spec, bookingCount) in pages)
        {
            if (await db.BookingPages.AcrossTenants().AnyAsync(p => p.Slug == slug, ct))
            {
                continue;
            }

            var page = new BookingPage(BookingPageId.New(), orgId, owner, slug, title, $"Demo page: {title}.", "Video call (link in the confirmation)",
                spec.ToSettings().Value, now);
            db.BookingPages.Add(page);
            await db.SaveChangesAsync(ct);

            var availability = scope.ServiceProvider.GetRequiredService<AvailabilityService>();
            var today = now.InZone(page.Settings.TimeZone).Date;
            var slots = await availability.GetSlotsAsync(page, today, today.PlusDays(14), page.Settings.TimeZone, now, null, ct);
            var bookingService = scope.ServiceProvider.GetRequiredService<BookingService>();
            for (var i = 0; i < bookingCount && i * 3 < slots.Count; i++)
            {
                var (name, email) = customers[i % customers.Length];
                var outcome = await bookingService.CreateAsync(slug,
                    new CreateBookingRequest(ApiFormat.Format(slots[i * 3].Start), null, new CustomerRequest(name, email, null, "Europe/Berlin"), null, null),
                    null, ct);
                if (!outcome.IsSuccess)
                {
                    LogDemoBookingSkipped(scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("Demo"), slug, outcome.Error!.Message);
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Demo booking on {Slug} skipped: {Reason}")]
    private static partial void LogDemoBookingSkipped(ILogger logger, string slug, string reason);
}
