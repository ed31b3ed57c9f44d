namespace Rendezvous.Data.Outbox;

/// <summary>How the outbox runs its messages (<c>Rendezvous:Outbox</c>).</summary>
public sealed class OutboxOptions
{
    /// <summary>Attempts before a message is marked dead and left for an administrator to replay.</summary>
    public int MaxAttempts { get; set; } = 20;

    /// <summary>
    /// How long a claim keeps other processes away. The holder renews it while it works, so it only runs out when the holder
    /// died or lost the database; then another process claims the message again.
    /// </summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Messages of one batch that run at the same time (never two of one ordering key).</summary>
    public int Parallelism { get; set; } = 16;
}

/// <summary>SQL shared by the model and the migration that created the column.</summary>
public static class OutboxMessageSql
{
    /// <summary>
    /// The ordering key of a message: the booking, space request or space its payload names, so every writer of outbox rows
    /// (booking events, calendar restores, space events and answers, and any later type that names one of them) gets it.
    /// </summary>
    public const string OrderingKey = "COALESCE(payload->>'bookingId', payload->>'requestId', payload->>'spaceId')";
}
