namespace Rendezvous.Server.Features.Spaces.Channels;

/// <summary>Settings of the space channel poller (<c>Rendezvous:SpaceChannels</c>).</summary>
public sealed class SpaceChannelOptions
{
    /// <summary>Off in tests that drive the poller by hand.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// How often each CalDAV channel is looked at (one sync-collection REPORT, cheap when nothing changed). Half a second
    /// keeps invitation-to-answer well under two seconds.
    /// </summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How long one IMAP session waits in IDLE for new mail before it hands the channel back (any process may then take
    /// it). New mail ends the wait at once; servers without IDLE are polled every <see cref="Interval"/>.
    /// </summary>
    public TimeSpan ImapIdle { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>A channel is claimed for this long; another process takes it over if this one dies. Longer than <see cref="ImapIdle"/>.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Channels polled at the same time by one process.</summary>
    public int Parallelism { get; set; } = 16;

    /// <summary>Timeout of one request to a CalDAV, IMAP or Graph server.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>The longest wait after repeated failures of one channel.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(5);
}
