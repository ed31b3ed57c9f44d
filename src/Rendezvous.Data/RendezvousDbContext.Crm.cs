using Microsoft.EntityFrameworkCore;
using Rendezvous.Domain.Bookings;

namespace Rendezvous.Data;

/// <summary>CRM connections per booking page and what was written for each booking; payments and refunds on bookings.</summary>
public sealed partial class RendezvousDbContext
{
    public DbSet<CrmConnection> CrmConnections => Set<CrmConnection>();

    public DbSet<CrmRecord> CrmRecords => Set<CrmRecord>();

    public DbSet<CrmUserLink> CrmUserLinks => Set<CrmUserLink>();

    public DbSet<PayPalAccount> PayPalAccounts => Set<PayPalAccount>();

    private void ConfigureCrmAndPayments(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<CrmConnection>(e =>
        {
            e.ToTable("crm_connections");
            e.HasKey(c => c.Id);
            e.Property(c => c.Id).ValueGeneratedNever();
            e.Property(c => c.Settings).HasColumnType("jsonb");
            e.Ignore(c => c.IsConnected);
            e.HasIndex(c => new { c.BookingPageId, c.Provider }).IsUnique();
            e.HasQueryFilter(c => AllTenants || (TenantId != null && c.OrganizationId == TenantId));
        });

        modelBuilder.Entity<CrmRecord>(e =>
        {
            e.ToTable("crm_records");
            e.HasKey(r => new { r.BookingId, r.Provider });
            e.HasQueryFilter(r => AllTenants || (TenantId != null && r.OrganizationId == TenantId));
        });

        modelBuilder.Entity<CrmUserLink>(e =>
        {
            e.ToTable("crm_user_links");
            e.HasKey(l => new { l.OrganizationId, l.Provider, l.AccountId, l.UserId });
            e.HasQueryFilter(l => AllTenants || (TenantId != null && l.OrganizationId == TenantId));
        });

        modelBuilder.Entity<PayPalAccount>(e =>
        {
            e.ToTable("paypal_accounts");
            e.HasKey(a => a.OrganizationId);
            e.HasQueryFilter(a => AllTenants || (TenantId != null && a.OrganizationId == TenantId));
        });

        modelBuilder.Entity<Booking>(e => e.OwnsOne(b => b.Payment, p =>
        {
            p.ToTable("booking_payments");
            p.WithOwner().HasForeignKey("BookingId");
            p.Property<Domain.BookingId>("BookingId").HasColumnName("booking_id");
            p.HasKey("BookingId");
            p.Property(x => x.Status).HasConversion<string>();
            p.Property(x => x.Amount).HasColumnType("numeric(14,2)");
            p.Property(x => x.RefundedAmount).HasColumnType("numeric(14,2)");
            p.Ignore(x => x.Price);
            p.Ignore(x => x.Refundable);
            p.OwnsMany(x => x.Refunds, r =>
            {
                r.ToTable("booking_refunds");
                r.WithOwner().HasForeignKey("BookingId");
                r.Property<Domain.BookingId>("BookingId").HasColumnName("booking_id");
                r.HasKey(x => x.Id);
                r.Property(x => x.Id).ValueGeneratedNever();
                r.Property(x => x.Amount).HasColumnType("numeric(14,2)");
                r.Property(x => x.Status).HasConversion<string>();
                r.Property(x => x.ActorKind).HasConversion<string>();
                r.Ignore(x => x.Money);
            });
            p.Navigation(x => x.Refunds).HasField("_refunds").UsePropertyAccessMode(PropertyAccessMode.Field);
        }));
    }
}
