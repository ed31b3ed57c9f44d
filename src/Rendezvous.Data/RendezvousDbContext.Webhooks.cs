using Microsoft.EntityFrameworkCore;

namespace Rendezvous.Data;

/// <summary>Outgoing webhooks: subscriptions, one delivery per event and subscription, and each delivery's attempts.</summary>
public sealed partial class RendezvousDbContext
{
    public DbSet<WebhookSubscription> WebhookSubscriptions => Set<WebhookSubscription>();

    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();

    /// <summary>Not filtered by tenant on their own: read them through deliveries, which are.</summary>
    public DbSet<WebhookAttempt> WebhookAttempts => Set<WebhookAttempt>();

    private void ConfigureWebhooks(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<WebhookSubscription>(e =>
        {
            e.ToTable("webhook_subscriptions");
            e.HasKey(s => s.Id);
            e.Property(s => s.Id).ValueGeneratedNever();
            e.HasQueryFilter(s => AllTenants || (TenantId != null && s.OrganizationId == TenantId));
        });

        modelBuilder.Entity<WebhookDelivery>(e =>
        {
            e.ToTable("webhook_deliveries");
            e.HasKey(d => d.Id);
            e.Property(d => d.Id).ValueGeneratedNever();
            e.Property(d => d.Status).HasConversion<string>();
            e.HasIndex(d => new { d.SubscriptionId, d.EventId }).IsUnique();
            e.HasQueryFilter(d => AllTenants || (TenantId != null && d.OrganizationId == TenantId));
        });

        modelBuilder.Entity<WebhookAttempt>(e =>
        {
            e.ToTable("webhook_attempts");
            e.HasKey(a => a.Id);
            e.Property(a => a.Id).UseIdentityByDefaultColumn();
        });
    }
}
