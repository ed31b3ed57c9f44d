namespace Rendezvous.Calendars.Tests.ICalendar;

/// <summary>
/// A fact that needs the shared corpus. Without it the test is reported as skipped (visibly, with the reason),
/// except under CI=true, where it runs and fails.
/// </summary>
public sealed class CorpusFactAttribute : FactAttribute
{
    public CorpusFactAttribute()
    {
        if (Corpus.Directory is null && !Corpus.IsCi)
        {
            Skip = CorpusTheoryAttribute.SkipReason;
        }
    }
}

/// <inheritdoc cref="CorpusFactAttribute"/>
public sealed class CorpusTheoryAttribute : TheoryAttribute
{
    internal const string SkipReason =
        "shared/ical-corpus was not found next to the repository; skipped locally (under CI=true this fails)";

    public CorpusTheoryAttribute()
    {
        if (Corpus.Directory is null && !Corpus.IsCi)
        {
            Skip = SkipReason;
        }
    }
}
