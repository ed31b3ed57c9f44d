using Microsoft.EntityFrameworkCore;
using Rendezvous.Data.Conferencing;

namespace Rendezvous.Data;

/// <summary>Conferencing accounts (per user and service) and the meeting each booking has in a service.</summary>
public sealed partial class RendezvousDbContext
{
    public DbSet<ConferencingAccount> ConferencingAccounts => Set<ConferencingAccount>();

    /// <summary>Not filtered by tenant: the conferencing handler reads and writes it across organizations.</summary>
    public DbSet<BookingConferencing> BookingConferencing => Set<BookingConferencing>();

    private void ConfigureConferencing(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<ConferencingAccount>(e =>
        {
            e.ToTable("conferencing_accounts");
            e.HasKey(a => a.Id);
            e.Property(a => a.Id).ValueGeneratedNever();
            e.Property(a => a.Provider).HasConversion<string>();
            e.HasQueryFilter(a => AllTenants || (TenantId != null && a.OrganizationId == TenantId));
        });

        modelBuilder.Entity<BookingConferencing>(e =>
        {
            e.ToTable("booking_conferencing");
            e.HasKey(c => c.BookingId);
            e.Property(c => c.BookingId).ValueGeneratedNever();
            e.Property(c => c.Provider).HasConversion<string>();
        });
    }
}
