namespace Rendezvous.Domain.Tests.Support;

/// <summary>A clock that only moves when a test moves it.</summary>
internal sealed class FakeClock : IClock
{
    private Instant _now;

    public FakeClock(Instant now) => _now = now;

    public Instant GetCurrentInstant() => _now;

    public FakeClock Advance(Duration by)
    {
        _now += by;
        return this;
    }

    public FakeClock Set(Instant now)
    {
        _now = now;
        return this;
    }
}
