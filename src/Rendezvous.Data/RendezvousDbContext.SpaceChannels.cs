using Microsoft.EntityFrameworkCore;

namespace Rendezvous.Data;

/// <summary>The channels invitations reach spaces through, and the invitations they brought (migration M0014).</summary>
public sealed partial class RendezvousDbContext
{
    public DbSet<SpaceChannel> SpaceChannels => Set<SpaceChannel>();

    public DbSet<SpaceChannelItem> SpaceChannelItems => Set<SpaceChannelItem>();

    private void ConfigureSpaceChannels(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<SpaceChannel>(e =>
        {
            e.ToTable("space_channels");
            e.HasKey(c => c.SpaceId);
            e.Property(c => c.SpaceId).ValueGeneratedNever();
            e.HasIndex(c => c.NextPollAt).HasDatabaseName("ix_space_channels_next_poll_at");
            e.HasQueryFilter(c => AllTenants || (TenantId != null && c.OrganizationId == TenantId));
        });

        modelBuilder.Entity<SpaceChannelItem>(e =>
        {
            e.ToTable("space_channel_items");
            e.HasKey(i => new { i.SpaceId, i.Uid });
            e.Property(i => i.Stamp).HasColumnName("dtstamp");
            e.HasQueryFilter(i => AllTenants || (TenantId != null && i.OrganizationId == TenantId));
        });
    }
}
