using NodaTime;

namespace Rendezvous.Server.Tests.Infrastructure;

/// <summary>A clock the test moves by hand.</summary>
public sealed class FakeClock(Instant now) : IClock
{
    private readonly Lock _gate = new();
    private Instant _now = now;

    public Instant GetCurrentInstant()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    public void Advance(Duration by)
    {
        lock (_gate)
        {
            _now += by;
        }
    }

    public void Set(Instant now)
    {
        lock (_gate)
        {
            _now = now;
        }
    }
}
