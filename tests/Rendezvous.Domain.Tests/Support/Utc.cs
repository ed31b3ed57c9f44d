namespace Rendezvous.Domain.Tests.Support;

internal static class Utc
{
    public static Instant At(int year, int month, int day, int hour, int minute = 0) =>
        Instant.FromUtc(year, month, day, hour, minute);
}
