using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Rendezvous.Data.Spaces;
using Rendezvous.Domain.Spaces;

namespace Rendezvous.Data;

/// <summary>Spaces, the requests made for them with their history, and the booking pages that need a space.</summary>
public sealed partial class RendezvousDbContext
{
    public DbSet<Space> Spaces => Set<Space>();

    public DbSet<SpaceRequest> SpaceRequests => Set<SpaceRequest>();

    /// <summary>Not filtered by tenant: reached only through a request of the caller's organization.</summary>
    public DbSet<SpaceRequestActivity> SpaceRequestActivities => Set<SpaceRequestActivity>();

    /// <summary>Not filtered by tenant: reached only through a booking page of the caller's organization.</summary>
    public DbSet<BookingPageSpacePool> BookingPageSpacePools => Set<BookingPageSpacePool>();

    // States are stored in lower case, as the API and the exclusion constraint's WHERE clause name them.
    private static readonly ValueConverter<SpaceRequestState, string> StateConverter = new(
        s => SpaceRules.Name(s), s => Enum.Parse<SpaceRequestState>(s, true));

    private static readonly ValueConverter<SpaceAdministration, string> ModeConverter = new(
        m => SpaceRules.Name(m), s => ParseMode(s));

    private static readonly ValueConverter<SpaceKind, string> KindConverter = new(
        k => SpaceRules.Name(k), s => Enum.Parse<SpaceKind>(s, true));

    private static SpaceAdministration ParseMode(string text) =>
        SpaceRules.TryParseMode(text, out var mode) ? mode : throw new InvalidOperationException($"Unknown administration mode '{text}'.");

    private void ConfigureSpaces(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Space>(e =>
        {
            e.ToTable("spaces");
            e.HasKey(s => s.Id);
            e.Property(s => s.Id).ValueGeneratedNever();
            e.Property(s => s.Kind).HasConversion(KindConverter);
            e.Property(s => s.Administration).HasColumnName("administration_mode").HasConversion(ModeConverter);
            e.Property(s => s.TimeZoneId).HasColumnName("time_zone");
            e.HasIndex(s => new { s.OrganizationId, s.Name }).IsUnique();
            e.HasQueryFilter(s => AllTenants || (TenantId != null && s.OrganizationId == TenantId));
        });

        modelBuilder.Entity<SpaceRequest>(e =>
        {
            e.ToTable("space_requests");
            e.HasKey(r => r.Id);
            e.Property(r => r.Id).ValueGeneratedNever();
            e.Property(r => r.Start).HasColumnName("start_at");
            e.Property(r => r.End).HasColumnName("end_at");
            e.Property(r => r.Stamp).HasColumnName("dtstamp");
            e.Property(r => r.State).HasConversion(StateConverter);
            e.Property(r => r.OrganizerCalendarETag).HasColumnName("organizer_calendar_etag");
            e.Property<uint>("Version").HasColumnName("xmin").HasColumnType("xid").ValueGeneratedOnAddOrUpdate().IsConcurrencyToken();
            e.HasIndex(r => new { r.SpaceId, r.Uid }).IsUnique();
            // Declared so EF inserts a space before its requests and a request before its history in one save.
            e.HasOne<Space>().WithMany().HasForeignKey(r => r.SpaceId).OnDelete(DeleteBehavior.Cascade);
            e.HasQueryFilter(r => AllTenants || (TenantId != null && r.OrganizationId == TenantId));
        });

        modelBuilder.Entity<SpaceRequestActivity>(e =>
        {
            e.ToTable("space_request_activities");
            e.HasKey(a => a.Id);
            e.Property(a => a.Id).UseIdentityByDefaultColumn();
            e.Property(a => a.FromState).HasConversion(StateConverter);
            e.Property(a => a.ToState).HasConversion(StateConverter);
            e.Property(a => a.Start).HasColumnName("start_at");
            e.Property(a => a.End).HasColumnName("end_at");
            e.HasIndex(a => new { a.RequestId, a.Id });
            e.HasOne<SpaceRequest>().WithMany().HasForeignKey(a => a.RequestId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<BookingPageSpacePool>(e =>
        {
            e.ToTable("booking_page_space_pools");
            e.HasKey(p => p.BookingPageId);
            e.Property(p => p.BookingPageId).ValueGeneratedNever();
        });
    }
}
