using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using NodaTime;
using Rendezvous.Data.Serialization;
using Rendezvous.Domain;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Calendars;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Organizations;

namespace Rendezvous.Data;

/// <summary>
/// The database. Every tenant-owned set is filtered to <see cref="TenantId"/> (each request sets it), and fails closed:
/// with no organization set, tenant-owned sets read as empty. Background work that spans organizations says so at
/// each query with <see cref="TenantScope.AcrossTenants{T}"/> (every such site is listed in a test). Saving moves the
/// bookings' pending events to the outbox in the same transaction.
/// </summary>
public sealed partial class RendezvousDbContext(DbContextOptions<RendezvousDbContext> options, IClock clock) : DbContext(options)
{
    /// <summary>
    /// The organization this unit of work belongs to; while null, tenant-owned sets read as empty. A context made while
    /// an outbox message of one organization runs starts with that organization (<see cref="TenantScope.Enter"/>).
    /// </summary>
    public OrganizationId? TenantId { get; set; } = TenantScope.Ambient;

    /// <summary>Every organization's rows, for tools and tests only: set through <see cref="TenantScope.ForAllTenants"/>.</summary>
    internal bool AllTenants { get; set; }

    public DbSet<Organization> Organizations => Set<Organization>();

    public DbSet<User> Users => Set<User>();

    public DbSet<Customer> Customers => Set<Customer>();

    public DbSet<BookingPage> BookingPages => Set<BookingPage>();

    public DbSet<Booking> Bookings => Set<Booking>();

    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();

    public DbSet<BusyBlock> BusyBlocks => Set<BusyBlock>();

    public DbSet<CalendarConnection> CalendarConnections => Set<CalendarConnection>();

    public DbSet<CalendarSyncState> CalendarSyncStates => Set<CalendarSyncState>();

    public DbSet<CalendarItem> CalendarItems => Set<CalendarItem>();

    public DbSet<BookingEventLink> BookingEventLinks => Set<BookingEventLink>();

    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();

    public DbSet<IdempotencyRecord> IdempotencyRecords => Set<IdempotencyRecord>();

    /// <summary>Raised after a save that wrote outbox rows, so the dispatcher can wake at once.</summary>
    public event EventHandler? OutboxWritten;

    public override async Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        // Outbox rows added directly (the spaces lifecycle writes its own) wake the dispatcher too, not only booking events.
        var wroteOutbox = MoveEventsToOutbox() | ChangeTracker.Entries<OutboxMessage>().Any(e => e.State == EntityState.Added);
        var result = await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken).ConfigureAwait(false);
        if (wroteOutbox)
        {
            OutboxWritten?.Invoke(this, EventArgs.Empty);
        }

        return result;
    }

    public override int SaveChanges(bool acceptAllChangesOnSuccess) =>
        throw new NotSupportedException("Use SaveChangesAsync.");

    private bool MoveEventsToOutbox()
    {
        var now = clock.GetCurrentInstant();
        var any = false;
        foreach (var entry in ChangeTracker.Entries<Booking>().ToList())
        {
            foreach (var e in entry.Entity.PendingEvents)
            {
                OutboxMessages.Add(new OutboxMessage
                {
                    OrganizationId = e.OrganizationId,
                    Type = e.Type,
                    Payload = JsonSerializer.Serialize(e, JsonDefaults.Options),
                    CreatedAt = now,
                    AvailableAt = now,
                });
                any = true;
            }

            entry.Entity.ClearPendingEvents();
        }

        return any;
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        configurationBuilder.Properties<OrganizationId>().HaveConversion<OrganizationIdConverter>();
        configurationBuilder.Properties<UserId>().HaveConversion<UserIdConverter>();
        configurationBuilder.Properties<CustomerId>().HaveConversion<CustomerIdConverter>();
        configurationBuilder.Properties<BookingPageId>().HaveConversion<BookingPageIdConverter>();
        configurationBuilder.Properties<BookingId>().HaveConversion<BookingIdConverter>();
        configurationBuilder.Properties<PackageId>().HaveConversion<PackageIdConverter>();
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Organization>(e =>
        {
            e.ToTable("organizations");
            e.HasKey(o => o.Id);
            e.Property(o => o.Id).ValueGeneratedNever();
            e.HasIndex(o => o.Slug).IsUnique();
        });

        modelBuilder.Entity<User>(e =>
        {
            e.ToTable("users");
            e.HasKey(u => u.Id);
            e.Property(u => u.Id).ValueGeneratedNever();
            e.Property(u => u.TimeZoneId).HasColumnName("time_zone");
            e.Property(u => u.Role).HasConversion<string>();
            e.HasQueryFilter(u => AllTenants || (TenantId != null && u.OrganizationId == TenantId));
        });

        modelBuilder.Entity<Customer>(e =>
        {
            e.ToTable("customers");
            e.HasKey(c => c.Id);
            e.Property(c => c.Id).ValueGeneratedNever();
            e.Property(c => c.TimeZoneId).HasColumnName("time_zone");
            e.HasQueryFilter(c => AllTenants || (TenantId != null && c.OrganizationId == TenantId));
        });

        modelBuilder.Entity<BookingPage>(e =>
        {
            e.ToTable("booking_pages");
            e.HasKey(p => p.Id);
            e.Property(p => p.Id).ValueGeneratedNever();
            e.Property(p => p.Conferencing).HasColumnName("conferencing_provider").HasConversion<string>();
            e.Property(p => p.Settings).HasColumnType("jsonb").HasConversion(
                s => JsonSerializer.Serialize(BookingPageSettingsSpec.FromSettings(s), JsonDefaults.Options),
                json => JsonSerializer.Deserialize<BookingPageSettingsSpec>(json, JsonDefaults.Options)!.ToSettings().Value,
                new Microsoft.EntityFrameworkCore.ChangeTracking.ValueComparer<BookingPageSettings>(
                    (a, b) => ReferenceEquals(a, b), s => s.GetHashCode(), s => s));
            e.HasQueryFilter(p => AllTenants || (TenantId != null && p.OrganizationId == TenantId));
        });

        modelBuilder.Entity<Booking>(e =>
        {
            e.ToTable("bookings");
            e.HasKey(b => b.Id);
            e.Property(b => b.Id).ValueGeneratedNever();
            e.Property(b => b.Start).HasColumnName("start_at");
            e.Property(b => b.End).HasColumnName("end_at");
            e.Property(b => b.Status).HasConversion<string>();
            e.Property(b => b.CancellationPolicy).HasColumnName("cancellation_notice_minutes").HasConversion(PolicyConverter).IsRequired(false);
            e.Property(b => b.ReschedulePolicy).HasColumnName("reschedule_notice_minutes").HasConversion(PolicyConverter).IsRequired(false);
            e.Property(b => b.Answers).HasColumnType("jsonb").HasConversion(
                a => JsonSerializer.Serialize(a, JsonDefaults.Options),
                json => JsonSerializer.Deserialize<Dictionary<string, string>>(json, JsonDefaults.Options) ?? new Dictionary<string, string>(),
                new Microsoft.EntityFrameworkCore.ChangeTracking.ValueComparer<IReadOnlyDictionary<string, string>>(
                    (a, b) => ReferenceEquals(a, b), a => a.GetHashCode(), a => a));
            e.Property<uint>("Version").HasColumnName("xmin").HasColumnType("xid").ValueGeneratedOnAddOrUpdate().IsConcurrencyToken();
            e.Ignore(b => b.PendingEvents);
            e.Ignore(b => b.Duration);
            e.OwnsMany(b => b.Hosts, h =>
            {
                h.ToTable("booking_hosts");
                h.WithOwner().HasForeignKey("BookingId");
                h.Property<BookingId>("BookingId").HasColumnName("booking_id");
                h.HasKey("BookingId", nameof(BookingHost.UserId));
                h.Property(x => x.Start).HasColumnName("start_at");
                h.Property(x => x.End).HasColumnName("end_at");
            });
            e.Navigation(b => b.Hosts).HasField("_hosts").UsePropertyAccessMode(PropertyAccessMode.Field);
            e.OwnsMany(b => b.History, a =>
            {
                a.ToTable("booking_activities");
                a.WithOwner().HasForeignKey("BookingId");
                a.Property<BookingId>("BookingId").HasColumnName("booking_id");
                a.HasKey(x => x.Id);
                a.Property(x => x.Id).UseIdentityByDefaultColumn();
                a.Property(x => x.Action).HasConversion<string>();
                a.Property(x => x.FromStatus).HasConversion<string>();
                a.Property(x => x.ToStatus).HasConversion<string>();
                a.Property(x => x.ActorKind).HasConversion<string>();
                a.Property(x => x.Start).HasColumnName("start_at");
                a.Property(x => x.End).HasColumnName("end_at");
            });
            e.Navigation(b => b.History).HasField("_history").UsePropertyAccessMode(PropertyAccessMode.Field);
            e.HasQueryFilter(b => AllTenants || (TenantId != null && b.OrganizationId == TenantId));
        });

        modelBuilder.Entity<ApiKey>(e =>
        {
            e.ToTable("api_keys");
            e.HasKey(k => k.Id);
            e.HasIndex(k => k.KeyHash).IsUnique();
            e.Property(k => k.Scopes).HasColumnType("text[]");
        });

        modelBuilder.Entity<BusyBlock>(e =>
        {
            e.ToTable("busy_blocks");
            e.HasKey(b => b.Id);
            e.Property(b => b.Start).HasColumnName("start_at");
            e.Property(b => b.End).HasColumnName("end_at");
            e.HasQueryFilter(b => AllTenants || (TenantId != null && b.OrganizationId == TenantId));
        });

        modelBuilder.Entity<CalendarConnection>(e =>
        {
            e.ToTable("calendar_connections");
            e.HasKey(c => c.Id);
            e.Property(c => c.Kind).HasConversion<string>();
            e.Property(c => c.Provider).HasConversion<string>();
            e.Property(c => c.Health).HasConversion<string>();
            e.Property(c => c.ProviderState).HasColumnType("jsonb");
            e.Ignore(c => c.IsSynced);
            e.Ignore(c => c.NeedsReconnecting);
            e.Ignore(c => c.AllCalendarUrls);
            e.Ignore(c => c.CanAcceptBookings);
            e.HasQueryFilter(c => AllTenants || (TenantId != null && c.OrganizationId == TenantId));
        });

        modelBuilder.Entity<CalendarSyncState>(e =>
        {
            e.ToTable("calendar_sync_states");
            e.HasKey(x => new { x.ConnectionId, x.CalendarUrl });
            e.Property(x => x.CTag).HasColumnName("ctag");
            e.Property(x => x.ProviderState).HasColumnType("jsonb");
        });

        modelBuilder.Entity<CalendarItem>(e =>
        {
            e.ToTable("calendar_items");
            e.HasKey(x => new { x.ConnectionId, x.Href });
            e.Property(x => x.ETag).HasColumnName("etag");
        });

        modelBuilder.Entity<BookingEventLink>(e =>
        {
            e.ToTable("booking_event_links");
            e.HasKey(x => new { x.BookingId, x.UserId });
            e.Property(x => x.ETag).HasColumnName("etag");
        });

        modelBuilder.Entity<OutboxMessage>(e =>
        {
            e.ToTable("outbox_messages");
            e.HasKey(m => m.Id);
            e.Property(m => m.Id).UseIdentityByDefaultColumn();
            e.Property(m => m.Payload).HasColumnType("jsonb");
            e.Property(m => m.OrderingKey).HasComputedColumnSql(Outbox.OutboxMessageSql.OrderingKey, stored: true);
        });

        modelBuilder.Entity<IdempotencyRecord>(e =>
        {
            e.ToTable("idempotency_records");
            e.HasKey(r => new { r.Scope, r.Key });
            e.Property(r => r.Response).HasColumnType("jsonb");
        });

        ConfigureSpaceChannels(modelBuilder);
        ConfigureWebhooks(modelBuilder);
        ConfigureCrmAndPayments(modelBuilder);
        ConfigureConferencing(modelBuilder);
        ConfigureSpaces(modelBuilder);
        ConfigureRouting(modelBuilder);
        ConfigureOAuth(modelBuilder);
        SnakeCase(modelBuilder);
    }

    // "Any time" is stored as NULL, so the converter must see nulls; EF marks that constructor as infrastructure (EF1001).
#pragma warning disable EF1001
    private static readonly ValueConverter<ChangePolicy, long?> PolicyConverter = new(
        p => p.MinimumNotice == null ? null : (long?)p.MinimumNotice.Value.TotalMinutes,
        v => v == null ? ChangePolicy.AnyTime : ChangePolicy.UpTo(Duration.FromMinutes(v.Value)),
        convertsNulls: true);
#pragma warning restore EF1001

    /// <summary>Names every column not named explicitly in snake_case, matching the hand-written migrations.</summary>
    private static void SnakeCase(ModelBuilder modelBuilder)
    {
        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            foreach (var property in entity.GetProperties())
            {
                if (property.GetColumnName() == property.Name)
                {
                    property.SetColumnName(ToSnake(property.Name));
                }
            }
        }
    }

    internal static string ToSnake(string name)
    {
        var sb = new System.Text.StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                if (i > 0)
                {
                    sb.Append('_');
                }

                sb.Append(char.ToLowerInvariant(c));
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }

    private sealed class OrganizationIdConverter() : ValueConverter<OrganizationId, Guid>(i => i.Value, g => new OrganizationId(g));

    private sealed class UserIdConverter() : ValueConverter<UserId, Guid>(i => i.Value, g => new UserId(g));

    private sealed class CustomerIdConverter() : ValueConverter<CustomerId, Guid>(i => i.Value, g => new CustomerId(g));

    private sealed class BookingPageIdConverter() : ValueConverter<BookingPageId, Guid>(i => i.Value, g => new BookingPageId(g));

    private sealed class BookingIdConverter() : ValueConverter<BookingId, Guid>(i => i.Value, g => new BookingId(g));

    private sealed class PackageIdConverter() : ValueConverter<PackageId, Guid>(i => i.Value, g => new PackageId(g));
}
