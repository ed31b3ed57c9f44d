using Microsoft.EntityFrameworkCore;

namespace Rendezvous.Data;

/// <summary>Routing forms: questions that send a visitor to a booking page or one member of a team page.</summary>
public sealed partial class RendezvousDbContext
{
    public DbSet<RoutingFormRecord> RoutingForms => Set<RoutingFormRecord>();

    private void ConfigureRouting(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<RoutingFormRecord>(e =>
        {
            e.ToTable("routing_forms");
            e.HasKey(f => f.Id);
            e.Property(f => f.Id).ValueGeneratedNever();
            e.Property(f => f.Definition).HasColumnType("jsonb");
            e.HasIndex(f => f.Slug).IsUnique().HasDatabaseName("ux_routing_forms_slug");
            e.HasIndex(f => f.OrganizationId).HasDatabaseName("ix_routing_forms_organization");
            e.HasQueryFilter(f => AllTenants || (TenantId != null && f.OrganizationId == TenantId));
        });
    }
}
