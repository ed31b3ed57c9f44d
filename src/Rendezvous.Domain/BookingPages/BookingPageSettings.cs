using NodaTime;
using Rendezvous.Domain.Payments;

namespace Rendezvous.Domain.BookingPages;

/// <summary>How a page books: alone, in seats, as a package of sessions, or with a panel of hosts.</summary>
public enum SchedulingOption
{
    /// <summary>One customer, one host.</summary>
    OneOnOne,
    /// <summary>Several customers share one session, up to <see cref="BookingPageSettings.SeatsPerSlot"/>.</summary>
    GroupSession,
    /// <summary>A customer books <see cref="BookingPageSettings.SessionCount"/> sessions together; each lives on its own.</summary>
    SessionPackage,
    /// <summary>The owner (primary team member) and every panel member must all be free; all attend.</summary>
    Panel,
    /// <summary>
    /// A team page: each booking goes to one free member of <see cref="BookingPageSettings.TeamMembers"/>, chosen by
    /// <see cref="BookingPageSettings.Balance"/>; that member owns the booking.
    /// </summary>
    RoundRobin,
    /// <summary>A team page: every member of <see cref="BookingPageSettings.TeamMembers"/> must be free, and all attend.</summary>
    Collective,
}

/// <summary>How a round-robin page picks among the members free at the booked time.</summary>
public enum RoundRobinBalance
{
    /// <summary>The member with the fewest bookings of the page made in the balance window; ties go to priority, then list order.</summary>
    FewestBookings,
    /// <summary>The member with the highest priority; ties go to the fewest bookings, then list order.</summary>
    Priority,
}

/// <summary>A member of a team page. <see cref="Priority"/> is 0 (lowest) to 10 (highest).</summary>
public sealed record TeamMember(UserId UserId, int Priority = TeamMember.DefaultPriority)
{
    public const int DefaultPriority = 5;

    public const int MaxPriority = 10;
}

/// <summary>
/// A time-of-day range in minutes from local midnight, start inclusive, end exclusive. The end may be 1440
/// (midnight at the end of the day, written "24:00").
/// </summary>
public readonly record struct TimeOfDayRange
{
    /// <summary>Creates a range; throws <see cref="ArgumentOutOfRangeException"/> unless 0 &lt;= start &lt; end &lt;= 1440.</summary>
    public TimeOfDayRange(int startMinute, int endMinute)
    {
        if (startMinute < 0 || endMinute > MinutesPerDay || startMinute >= endMinute)
        {
            throw new ArgumentOutOfRangeException(nameof(startMinute), $"Need 0 <= start < end <= 1440, got {startMinute}-{endMinute}.");
        }

        StartMinute = startMinute;
        EndMinute = endMinute;
    }

    public const int MinutesPerDay = 24 * 60;

    public int StartMinute { get; }

    public int EndMinute { get; }

    /// <summary>Parses "HH:mm" (00:00-24:00) into minutes; false for anything else.</summary>
    public static bool TryParseTime(string? text, out int minutes)
    {
        minutes = 0;
        if (text is null || text.Length != 5 || text[2] != ':'
            || !int.TryParse(text.AsSpan(0, 2), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var h)
            || !int.TryParse(text.AsSpan(3, 2), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var m)
            || m > 59 || h > 24 || (h == 24 && m != 0))
        {
            return false;
        }

        minutes = (h * 60) + m;
        return true;
    }

    /// <summary>Formats minutes as "HH:mm"; 1440 is "24:00".</summary>
    public static string FormatTime(int minutes) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{minutes / 60:00}:{minutes % 60:00}");

    public override string ToString() => $"{FormatTime(StartMinute)}-{FormatTime(EndMinute)}";
}

/// <summary>How a reminder reaches the customer. Only email is available now; the model leaves room for SMS.</summary>
public enum ReminderChannel
{
    Email,
    Sms,
}

/// <summary>
/// A reminder <see cref="Offset"/> before the meeting starts, or, for the follow-up, <see cref="Offset"/> after it ends.
/// </summary>
public sealed record ReminderRule(Duration Offset, ReminderChannel Channel = ReminderChannel.Email)
{
    public static ReminderRule DayBefore { get; } = new(Duration.FromDays(1));
}

/// <summary>
/// A question the booking form asks besides name, email and phone. <see cref="Id"/> keys the answer in the booking's
/// answers; a required question must be answered (not blank) for a booking to be made.
/// </summary>
public sealed record BookingQuestion(string Id, string Label, bool Required)
{
    /// <summary>Answer keys the booking form uses for its own fields; questions cannot take them.</summary>
    public static IReadOnlyList<string> ReservedIds { get; } = ["notes", "guests"];

    /// <summary>True for 1 to 40 lower-case letters, digits and dashes, starting with a letter or digit.</summary>
    public static bool IsValidId(string? id) =>
        id is { Length: >= 1 and <= 40 } && id[0] != '-' && id.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');
}

/// <summary>Open hours on one day of every week, in the page's time zone.</summary>
public sealed record WeeklyHours(IsoDayOfWeek Day, TimeOfDayRange Hours);

/// <summary>Replaces the weekly hours of one date. No ranges means the whole date is unavailable.</summary>
public sealed record DateOverride(LocalDate Date, IReadOnlyList<TimeOfDayRange> Hours);

/// <summary>
/// When a customer may cancel or reschedule: any time (<see cref="MinimumNotice"/> null), or only up to
/// <see cref="MinimumNotice"/> before the start. Binds customers only; users may always act.
/// </summary>
public sealed record ChangePolicy(Duration? MinimumNotice)
{
    public static ChangePolicy AnyTime { get; } = new((Duration?)null);

    public static ChangePolicy UpTo(Duration before) => new(before);

    /// <summary>True when a customer acting at <paramref name="now"/> is still inside the window for a meeting at <paramref name="start"/>.</summary>
    public bool Allows(Instant now, Instant start) => MinimumNotice is not { } notice || now <= start - notice;
}

/// <summary>
/// Every scheduling setting of a booking page. Immutable; <see cref="Validate"/> names each offending field with
/// its camelCase API name.
/// </summary>
public sealed record BookingPageSettings
{
    public required Duration Duration { get; init; }

    public required DateTimeZone TimeZone { get; init; }

    public IReadOnlyList<WeeklyHours> WeeklyHours { get; init; } = [];

    public IReadOnlyList<DateOverride> DateOverrides { get; init; } = [];

    public Duration BufferBefore { get; init; } = Duration.Zero;

    public Duration BufferAfter { get; init; } = Duration.Zero;

    /// <summary>A slot must start at least this long after now.</summary>
    public Duration MinimumNotice { get; init; } = Duration.Zero;

    /// <summary>Slots are offered up to this many days after now (rolling).</summary>
    public int BookingWindowDays { get; init; } = 60;

    /// <summary>Meetings of this page per calendar day in the page's zone; null = no cap.</summary>
    public int? MaxBookingsPerDay { get; init; }

    /// <summary>Meetings of this page per ISO week (Monday to Sunday) in the page's zone; null = no cap.</summary>
    public int? MaxBookingsPerWeek { get; init; }

    /// <summary>The step between candidate slot starts. Defaults to the duration.</summary>
    public Duration? SlotInterval { get; init; }

    public SchedulingOption SchedulingOption { get; init; } = SchedulingOption.OneOnOne;

    /// <summary>Seats per group session; 1 for every other option.</summary>
    public int SeatsPerSlot { get; init; } = 1;

    /// <summary>Sessions per package (1-20); 1 for every other option.</summary>
    public int SessionCount { get; init; } = 1;

    /// <summary>The additional team members of a panel page (the owner is the primary member).</summary>
    public IReadOnlyList<UserId> PanelMemberIds { get; init; } = [];

    /// <summary>The team of a round-robin or collective page, in order (the first is the primary member of a collective meeting).</summary>
    public IReadOnlyList<TeamMember> TeamMembers { get; init; } = [];

    /// <summary>How a round-robin page chooses its member.</summary>
    public RoundRobinBalance Balance { get; init; } = RoundRobinBalance.FewestBookings;

    /// <summary>For <see cref="RoundRobinBalance"/>: bookings of the page made in the last this many days count (1-365).</summary>
    public int BalanceWindowDays { get; init; } = 30;

    /// <summary>True for round-robin and collective pages.</summary>
    public bool IsTeamPage => SchedulingOption is SchedulingOption.RoundRobin or SchedulingOption.Collective;

    /// <summary>New bookings wait in Requested until a user approves or declines them.</summary>
    public bool RequiresApproval { get; init; }

    public ChangePolicy CancellationPolicy { get; init; } = ChangePolicy.AnyTime;

    public ChangePolicy ReschedulePolicy { get; init; } = ChangePolicy.AnyTime;

    /// <summary>Up to <see cref="MaxReminders"/> reminders before each meeting; by default one, a day before.</summary>
    public IReadOnlyList<ReminderRule> Reminders { get; init; } = [ReminderRule.DayBefore];

    /// <summary>One optional follow-up after each meeting.</summary>
    public ReminderRule? FollowUp { get; init; }

    /// <summary>Questions the booking form asks, in order (at most <see cref="MaxQuestions"/>).</summary>
    public IReadOnlyList<BookingQuestion> Questions { get; init; } = [];

    public const int MaxReminders = 3;

    public const int MaxQuestions = 20;
    /// <summary>
    /// The price of each booking, paid before it is scheduled (bookings wait in AwaitingPayment meanwhile); null when the
    /// page is free. Not combined with <see cref="RequiresApproval"/> or session packages.
    /// </summary>
    public PaymentRequirement? Payment { get; init; }

    /// <summary>The slot step actually used.</summary>
    public Duration EffectiveSlotInterval => SlotInterval ?? Duration;

    /// <summary>Returns every offending field; empty when the settings are valid.</summary>
    public IReadOnlyList<FieldError> Validate()
    {
        var errors = new List<FieldError>();
        if (Duration < Duration.FromMinutes(5) || Duration > Duration.FromHours(24))
        {
            errors.Add(new("durationMinutes", "must be between 5 and 1440 minutes"));
        }

        if (SlotInterval is { } step && (step < Duration.FromMinutes(5) || step > Duration.FromHours(24)))
        {
            errors.Add(new("slotIntervalMinutes", "must be between 5 and 1440 minutes"));
        }

        if (BufferBefore < Duration.Zero || BufferBefore > Duration.FromHours(24))
        {
            errors.Add(new("bufferBeforeMinutes", "must be between 0 and 1440 minutes"));
        }

        if (BufferAfter < Duration.Zero || BufferAfter > Duration.FromHours(24))
        {
            errors.Add(new("bufferAfterMinutes", "must be between 0 and 1440 minutes"));
        }

        if (MinimumNotice < Duration.Zero || MinimumNotice > Duration.FromDays(365))
        {
            errors.Add(new("minimumNoticeMinutes", "must be between 0 minutes and 365 days"));
        }

        if (BookingWindowDays is < 1 or > 730)
        {
            errors.Add(new("bookingWindowDays", "must be between 1 and 730"));
        }

        if (MaxBookingsPerDay is < 1)
        {
            errors.Add(new("maxBookingsPerDay", "must be at least 1 when set"));
        }

        if (MaxBookingsPerWeek is < 1)
        {
            errors.Add(new("maxBookingsPerWeek", "must be at least 1 when set"));
        }

        ValidateOptionFields(errors);
        ValidateHours(errors);

        if (CancellationPolicy.MinimumNotice is { } c && c < Duration.Zero)
        {
            errors.Add(new("cancellationPolicy", "minutesBefore must not be negative"));
        }

        ValidateReminders(errors);
        ValidateQuestions(errors);
        ValidatePayment(errors);

        if (ReschedulePolicy.MinimumNotice is { } r && r < Duration.Zero)
        {
            errors.Add(new("reschedulePolicy", "minutesBefore must not be negative"));
        }

        return errors;
    }

    /// <summary>Checks a reminder plan (a page's, or one booking's own): at most three, 5 minutes to 30 days, email only for now.</summary>
    public static void ValidateReminders(IReadOnlyList<ReminderRule> reminders, ReminderRule? followUp, List<FieldError> errors)
    {
        if (reminders.Count > MaxReminders)
        {
            errors.Add(new("reminders", $"at most {MaxReminders} reminders"));
        }

        for (var i = 0; i < reminders.Count; i++)
        {
            CheckRule(reminders[i], $"reminders[{i}]", errors);
        }

        if (reminders.Select(r => r.Offset).Distinct().Count() != reminders.Count)
        {
            errors.Add(new("reminders", "must not repeat an offset"));
        }

        if (followUp is not null)
        {
            CheckRule(followUp, "followUp", errors);
        }
    }

    private void ValidateReminders(List<FieldError> errors) => ValidateReminders(Reminders, FollowUp, errors);

    private void ValidateQuestions(List<FieldError> errors)
    {
        if (Questions.Count > MaxQuestions)
        {
            errors.Add(new("questions", $"at most {MaxQuestions} questions"));
        }

        for (var i = 0; i < Questions.Count; i++)
        {
            var q = Questions[i];
            if (!BookingQuestion.IsValidId(q.Id))
            {
                errors.Add(new($"questions[{i}].id", "must be 1-40 lower-case letters, digits and dashes"));
            }
            else if (BookingQuestion.ReservedIds.Contains(q.Id))
            {
                errors.Add(new($"questions[{i}].id", $"{q.Id} is used by the booking form itself; choose another id"));
            }
            else if (Questions.Take(i).Any(p => p.Id == q.Id))
            {
                errors.Add(new($"questions[{i}].id", "must not repeat another question's id"));
            }

            if (string.IsNullOrWhiteSpace(q.Label) || q.Label.Length > 200 || q.Label.Any(char.IsControl))
            {
                errors.Add(new($"questions[{i}].label", "is required (1-200 characters, one line)"));
            }
        }
    }

    private void ValidatePayment(List<FieldError> errors)
    {
        if (Payment is null)
        {
            return;
        }

        if (Payment.Price.Amount <= 0)
        {
            errors.Add(new("payment.amount", "must be more than 0"));
        }

        if (Payment.PaymentWindow < PaymentRequirement.MinWindow || Payment.PaymentWindow > PaymentRequirement.MaxWindow)
        {
            errors.Add(new("payment.paymentWindowMinutes",
                $"must be between {PaymentRequirement.MinWindow.TotalMinutes:0} and {PaymentRequirement.MaxWindow.TotalMinutes:0} minutes"));
        }

        if (RequiresApproval)
        {
            errors.Add(new("payment", "a page that requires payment cannot also require approval"));
        }

        if (SchedulingOption == SchedulingOption.SessionPackage)
        {
            errors.Add(new("payment", "session packages cannot require payment yet"));
        }
    }

    private static void CheckRule(ReminderRule rule, string field, List<FieldError> errors)
    {
        if (rule.Offset < Duration.FromMinutes(5) || rule.Offset > Duration.FromDays(30))
        {
            errors.Add(new(field + ".offsetMinutes", "must be between 5 minutes and 30 days"));
        }

        if (rule.Channel != ReminderChannel.Email)
        {
            errors.Add(new(field + ".channel", "only email reminders are available for now"));
        }
    }

    private void ValidateOptionFields(List<FieldError> errors)
    {
        switch (SchedulingOption)
        {
            case SchedulingOption.GroupSession when SeatsPerSlot is < 2 or > 1000:
                errors.Add(new("seatsPerSlot", "a group session needs 2 to 1000 seats"));
                break;
            case SchedulingOption.SessionPackage when SessionCount is < 1 or > 20:
                errors.Add(new("sessionCount", "a session package has 1 to 20 sessions"));
                break;
            case SchedulingOption.Panel when PanelMemberIds.Count is < 1 or > 50:
                errors.Add(new("panelMemberIds", "a panel needs 1 to 50 additional team members"));
                break;
            case SchedulingOption.RoundRobin when TeamMembers.Count is < 1 or > 50:
                errors.Add(new("teamMembers", "a round-robin page needs 1 to 50 team members"));
                break;
            case SchedulingOption.Collective when TeamMembers.Count is < 2 or > 50:
                errors.Add(new("teamMembers", "a collective page needs 2 to 50 team members"));
                break;
        }

        if (!IsTeamPage && TeamMembers.Count != 0)
        {
            errors.Add(new("teamMembers", "only round-robin and collective pages have team members"));
        }

        if (TeamMembers.Select(m => m.UserId).Distinct().Count() != TeamMembers.Count)
        {
            errors.Add(new("teamMembers", "must not repeat a member"));
        }

        for (var i = 0; i < TeamMembers.Count; i++)
        {
            if (TeamMembers[i].Priority is < 0 or > TeamMember.MaxPriority)
            {
                errors.Add(new($"teamMembers[{i}].priority", $"must be between 0 and {TeamMember.MaxPriority}"));
            }
        }

        if (BalanceWindowDays is < 1 or > 365)
        {
            errors.Add(new("balanceWindowDays", "must be between 1 and 365"));
        }

        if (SchedulingOption != SchedulingOption.GroupSession && SeatsPerSlot != 1)
        {
            errors.Add(new("seatsPerSlot", "only group sessions have more than one seat"));
        }

        if (SchedulingOption != SchedulingOption.SessionPackage && SessionCount != 1)
        {
            errors.Add(new("sessionCount", "only session packages have more than one session"));
        }

        if (SchedulingOption != SchedulingOption.Panel && PanelMemberIds.Count != 0)
        {
            errors.Add(new("panelMemberIds", "only panel pages have panel members"));
        }

        if (PanelMemberIds.Distinct().Count() != PanelMemberIds.Count)
        {
            errors.Add(new("panelMemberIds", "must not repeat a member"));
        }
    }

    private void ValidateHours(List<FieldError> errors)
    {
        // A default(TimeOfDayRange) skips the constructor's check (e.g. after deserialization): it is empty.
        if (WeeklyHours.Any(w => !IsWellFormed(w.Hours)))
        {
            errors.Add(new("weeklyHours", "each range must start before it ends"));
        }

        if (WeeklyHours.Any(w => w.Day is < IsoDayOfWeek.Monday or > IsoDayOfWeek.Sunday))
        {
            errors.Add(new("weeklyHours", "each range needs a day of the week"));
        }

        if (DateOverrides.Any(o => o.Hours.Any(h => !IsWellFormed(h))))
        {
            errors.Add(new("dateOverrides", "each range must start before it ends"));
        }

        foreach (var day in WeeklyHours.GroupBy(w => w.Day))
        {
            if (HasOverlap(day.Select(d => d.Hours)))
            {
                errors.Add(new("weeklyHours", $"ranges on {day.Key} overlap"));
            }
        }

        foreach (var date in DateOverrides.GroupBy(o => o.Date))
        {
            if (date.Count() > 1)
            {
                errors.Add(new("dateOverrides", $"{date.Key:yyyy-MM-dd} appears more than once"));
            }
            else if (HasOverlap(date.Single().Hours))
            {
                errors.Add(new("dateOverrides", $"ranges on {date.Key:yyyy-MM-dd} overlap"));
            }
        }
    }

    private static bool IsWellFormed(TimeOfDayRange range) =>
        range.StartMinute >= 0 && range.StartMinute < range.EndMinute && range.EndMinute <= TimeOfDayRange.MinutesPerDay;

    private static bool HasOverlap(IEnumerable<TimeOfDayRange> ranges)
    {
        var sorted = ranges.OrderBy(r => r.StartMinute).ToList();
        for (var i = 1; i < sorted.Count; i++)
        {
            if (sorted[i].StartMinute < sorted[i - 1].EndMinute)
            {
                return true;
            }
        }

        return false;
    }
}
