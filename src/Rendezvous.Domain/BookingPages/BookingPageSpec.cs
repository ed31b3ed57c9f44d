using NodaTime;
using NodaTime.Text;

namespace Rendezvous.Domain.BookingPages;

/// <summary>Open hours on a weekday: <c>day</c> is "monday".."sunday", times are "HH:mm" (end may be "24:00").</summary>
public sealed record WeeklyHoursSpec(string? Day, string? Start, string? End);

/// <summary>A time range of a date override.</summary>
public sealed record TimeRangeSpec(string? Start, string? End);

/// <summary>Hours replacing the weekly hours on one date ("yyyy-MM-dd"); no hours = unavailable that day.</summary>
public sealed record DateOverrideSpec(string? Date, IReadOnlyList<TimeRangeSpec>? Hours);

/// <summary>A reminder (minutes before the start) or follow-up (minutes after the end); channel "email" (default) or "sms".</summary>
public sealed record ReminderSpec(int? OffsetMinutes, string? Channel);

/// <summary>A custom question of the booking form: <c>id</c> keys the answer, <c>required</c> defaults to false.</summary>
public sealed record QuestionSpec(string? Id, string? Label, bool? Required);

/// <summary>
/// The price of each booking: <c>amount</c> in <c>currency</c> (an ISO 4217 code PayPal accepts), paid within
/// <c>paymentWindowMinutes</c> (default 30, 5 to 180) of booking.
/// </summary>
public sealed record PaymentSpec(decimal? Amount, string? Currency, int? PaymentWindowMinutes);

/// <summary>A member of a team page: a user id and a priority 0-10 (default 5, higher first).</summary>
public sealed record TeamMemberSpec(string? UserId, int? Priority);

/// <summary><c>kind</c> is "anyTime" or "upTo" (with <c>minutesBefore</c>).</summary>
public sealed record ChangePolicySpec(string? Kind, int? MinutesBefore);

/// <summary>
/// The plain, serialisable form of <see cref="BookingPageSettings"/>: what the API accepts and returns, and what is
/// stored. Unset values take the defaults (slot interval = duration, no buffers, no notice, 60-day window).
/// </summary>
public record BookingPageSettingsSpec
{
    public int? DurationMinutes { get; init; }

    public string? TimeZone { get; init; }

    public IReadOnlyList<WeeklyHoursSpec>? WeeklyHours { get; init; }

    public IReadOnlyList<DateOverrideSpec>? DateOverrides { get; init; }

    public int? SlotIntervalMinutes { get; init; }

    public int? BufferBeforeMinutes { get; init; }

    public int? BufferAfterMinutes { get; init; }

    public int? MinimumNoticeMinutes { get; init; }

    public int? BookingWindowDays { get; init; }

    public int? MaxBookingsPerDay { get; init; }

    public int? MaxBookingsPerWeek { get; init; }

    /// <summary>"oneOnOne" (default), "groupSession", "sessionPackage", "panel", "roundRobin" or "collective".</summary>
    public string? SchedulingOption { get; init; }

    public int? SeatsPerSlot { get; init; }

    public int? SessionCount { get; init; }

    public IReadOnlyList<string>? PanelMemberIds { get; init; }

    /// <summary>The team of a round-robin or collective page, in order.</summary>
    public IReadOnlyList<TeamMemberSpec>? TeamMembers { get; init; }

    /// <summary>Round-robin only: "fewestBookings" (default) or "priority".</summary>
    public string? RoundRobinBalance { get; init; }

    /// <summary>Round-robin only: the days of bookings that count for "fewestBookings" (default 30).</summary>
    public int? BalanceWindowDays { get; init; }

    public bool? RequiresApproval { get; init; }

    public ChangePolicySpec? CancellationPolicy { get; init; }

    public ChangePolicySpec? ReschedulePolicy { get; init; }

    /// <summary>Reminders before each meeting (at most three). Unset: one email a day before; empty: none.</summary>
    public IReadOnlyList<ReminderSpec>? Reminders { get; init; }

    /// <summary>A follow-up after each meeting; unset or null: none.</summary>
    public ReminderSpec? FollowUp { get; init; }

    /// <summary>Custom questions of the booking form, in order; unset: none.</summary>
    public IReadOnlyList<QuestionSpec>? Questions { get; init; }
    /// <summary>The price of each booking; unset or null: the page is free.</summary>
    public PaymentSpec? Payment { get; init; }

    private static readonly Dictionary<string, IsoDayOfWeek> Days = new(StringComparer.OrdinalIgnoreCase)
    {
        ["monday"] = IsoDayOfWeek.Monday,
        ["tuesday"] = IsoDayOfWeek.Tuesday,
        ["wednesday"] = IsoDayOfWeek.Wednesday,
        ["thursday"] = IsoDayOfWeek.Thursday,
        ["friday"] = IsoDayOfWeek.Friday,
        ["saturday"] = IsoDayOfWeek.Saturday,
        ["sunday"] = IsoDayOfWeek.Sunday,
    };

    private static readonly Dictionary<string, BookingPages.SchedulingOption> Options = new(StringComparer.OrdinalIgnoreCase)
    {
        ["oneOnOne"] = BookingPages.SchedulingOption.OneOnOne,
        ["groupSession"] = BookingPages.SchedulingOption.GroupSession,
        ["sessionPackage"] = BookingPages.SchedulingOption.SessionPackage,
        ["panel"] = BookingPages.SchedulingOption.Panel,
        ["roundRobin"] = BookingPages.SchedulingOption.RoundRobin,
        ["collective"] = BookingPages.SchedulingOption.Collective,
    };

    private static readonly Dictionary<string, BookingPages.RoundRobinBalance> Balances = new(StringComparer.OrdinalIgnoreCase)
    {
        ["fewestBookings"] = BookingPages.RoundRobinBalance.FewestBookings,
        ["priority"] = BookingPages.RoundRobinBalance.Priority,
    };

    /// <summary>Converts to validated settings, or one validation error naming every offending field.</summary>
    public Result<BookingPageSettings> ToSettings()
    {
        var errors = new List<FieldError>();
        var zone = TimeZones.Find(TimeZone);
        if (zone is null)
        {
            errors.Add(new("timeZone", "must be an IANA time zone id such as Europe/London"));
        }

        if (DurationMinutes is null)
        {
            errors.Add(new("durationMinutes", "is required"));
        }

        var option = BookingPages.SchedulingOption.OneOnOne;
        if (SchedulingOption is not null && !Options.TryGetValue(SchedulingOption, out option))
        {
            errors.Add(new("schedulingOption", "must be oneOnOne, groupSession, sessionPackage, panel, roundRobin or collective"));
        }

        var balance = BookingPages.RoundRobinBalance.FewestBookings;
        if (RoundRobinBalance is not null && !Balances.TryGetValue(RoundRobinBalance, out balance))
        {
            errors.Add(new("roundRobinBalance", "must be fewestBookings or priority"));
        }

        var team = ParseTeam(errors);

        var weekly = ParseWeekly(errors);
        var overrides = ParseOverrides(errors);
        var panel = ParsePanel(errors);
        var cancellation = ParsePolicy(CancellationPolicy, "cancellationPolicy", errors);
        var reschedule = ParsePolicy(ReschedulePolicy, "reschedulePolicy", errors);
        var reminders = Reminders is null ? [ReminderRule.DayBefore] : ParseReminders(Reminders, "reminders", errors);
        var followUp = FollowUp is null ? null : ParseReminder(FollowUp, "followUp", errors);
        var questions = ParseQuestions(errors);
        var payment = ParsePayment(errors);

        if (errors.Count > 0)
        {
            return DomainError.Validation(errors);
        }

        var settings = new BookingPageSettings
        {
            Duration = Duration.FromMinutes(DurationMinutes!.Value),
            TimeZone = zone!,
            WeeklyHours = weekly,
            DateOverrides = overrides,
            SlotInterval = SlotIntervalMinutes is { } step ? Duration.FromMinutes(step) : null,
            BufferBefore = Duration.FromMinutes(BufferBeforeMinutes ?? 0),
            BufferAfter = Duration.FromMinutes(BufferAfterMinutes ?? 0),
            MinimumNotice = Duration.FromMinutes(MinimumNoticeMinutes ?? 0),
            BookingWindowDays = BookingWindowDays ?? 60,
            MaxBookingsPerDay = MaxBookingsPerDay,
            MaxBookingsPerWeek = MaxBookingsPerWeek,
            SchedulingOption = option,
            SeatsPerSlot = SeatsPerSlot ?? (option == BookingPages.SchedulingOption.GroupSession ? 10 : 1),
            SessionCount = SessionCount ?? 1,
            PanelMemberIds = panel,
            TeamMembers = team,
            Balance = balance,
            BalanceWindowDays = BalanceWindowDays ?? 30,
            RequiresApproval = RequiresApproval ?? false,
            CancellationPolicy = cancellation,
            ReschedulePolicy = reschedule,
            Reminders = reminders,
            FollowUp = followUp,
            Questions = questions,
            Payment = payment,
        };

        var invalid = settings.Validate();
        return invalid.Count > 0 ? DomainError.Validation(invalid) : settings;
    }

    /// <summary>The spec of existing settings, with every value spelled out.</summary>
    public static BookingPageSettingsSpec FromSettings(BookingPageSettings s) => new()
    {
        DurationMinutes = (int)s.Duration.TotalMinutes,
        TimeZone = s.TimeZone.Id,
        WeeklyHours = [.. s.WeeklyHours.Select(w => new WeeklyHoursSpec(
            w.Day.ToString().ToLowerInvariant(), TimeOfDayRange.FormatTime(w.Hours.StartMinute), TimeOfDayRange.FormatTime(w.Hours.EndMinute)))],
        DateOverrides = [.. s.DateOverrides.Select(o => new DateOverrideSpec(
            LocalDatePattern.Iso.Format(o.Date),
            [.. o.Hours.Select(h => new TimeRangeSpec(TimeOfDayRange.FormatTime(h.StartMinute), TimeOfDayRange.FormatTime(h.EndMinute)))]))],
        SlotIntervalMinutes = (int)s.EffectiveSlotInterval.TotalMinutes,
        BufferBeforeMinutes = (int)s.BufferBefore.TotalMinutes,
        BufferAfterMinutes = (int)s.BufferAfter.TotalMinutes,
        MinimumNoticeMinutes = (int)s.MinimumNotice.TotalMinutes,
        BookingWindowDays = s.BookingWindowDays,
        MaxBookingsPerDay = s.MaxBookingsPerDay,
        MaxBookingsPerWeek = s.MaxBookingsPerWeek,
        SchedulingOption = Options.First(kv => kv.Value == s.SchedulingOption).Key,
        SeatsPerSlot = s.SeatsPerSlot,
        SessionCount = s.SessionCount,
        PanelMemberIds = [.. s.PanelMemberIds.Select(id => id.ToString())],
        TeamMembers = [.. s.TeamMembers.Select(m => new TeamMemberSpec(m.UserId.ToString(), m.Priority))],
        RoundRobinBalance = Balances.First(kv => kv.Value == s.Balance).Key,
        BalanceWindowDays = s.BalanceWindowDays,
        RequiresApproval = s.RequiresApproval,
        CancellationPolicy = ToSpec(s.CancellationPolicy),
        ReschedulePolicy = ToSpec(s.ReschedulePolicy),
        Reminders = [.. s.Reminders.Select(ToSpec)],
        FollowUp = s.FollowUp is null ? null : ToSpec(s.FollowUp),
        Questions = [.. s.Questions.Select(q => new QuestionSpec(q.Id, q.Label, q.Required))],
        Payment = s.Payment is null ? null
            : new PaymentSpec(s.Payment.Price.Amount, s.Payment.Price.Currency, (int)s.Payment.PaymentWindow.TotalMinutes),
    };

    /// <summary>The spec form of a reminder rule.</summary>
    public static ReminderSpec ToSpec(ReminderRule rule) =>
        new((int)rule.Offset.TotalMinutes, rule.Channel == ReminderChannel.Email ? "email" : "sms");

    /// <summary>Parses reminder specs, adding an error per bad one; the rules that parsed are returned.</summary>
    public static List<ReminderRule> ParseReminders(IReadOnlyList<ReminderSpec?> specs, string field, List<FieldError> errors)
    {
        var rules = new List<ReminderRule>();
        for (var i = 0; i < specs.Count; i++)
        {
            if (ParseReminder(specs[i], $"{field}[{i}]", errors) is { } rule)
            {
                rules.Add(rule);
            }
        }

        return rules;
    }

    /// <summary>Parses one reminder spec; null (with an error naming <paramref name="field"/>) when it is invalid.</summary>
    public static ReminderRule? ParseReminder(ReminderSpec? spec, string field, List<FieldError> errors)
    {
        if (spec?.OffsetMinutes is not { } minutes)
        {
            errors.Add(new(field + ".offsetMinutes", "is required"));
            return null;
        }

        var channel = spec.Channel?.ToLowerInvariant() switch
        {
            null or "email" => ReminderChannel.Email,
            "sms" => ReminderChannel.Sms,
            _ => (ReminderChannel?)null,
        };
        if (channel is null)
        {
            errors.Add(new(field + ".channel", "must be email (sms is planned)"));
            return null;
        }

        return new ReminderRule(Duration.FromMinutes(minutes), channel.Value);
    }

    private List<BookingQuestion> ParseQuestions(List<FieldError> errors)
    {
        var result = new List<BookingQuestion>();
        foreach (var (q, i) in (Questions ?? []).Select((q, i) => (q, i)))
        {
            if (q is null)
            {
                errors.Add(new($"questions[{i}]", "must be { \"id\", \"label\", \"required\" }"));
                continue;
            }

            // Shape only here; Validate checks ids and labels, so settings built in code get the same checks.
            result.Add(new BookingQuestion(q.Id?.Trim() ?? "", q.Label?.Trim() ?? "", q.Required ?? false));
        }

        return result;
    }

    private Payments.PaymentRequirement? ParsePayment(List<FieldError> errors)
    {
        if (Payment is null)
        {
            return null;
        }

        var price = Payments.Money.Create(Payment.Amount, Payment.Currency, "payment");
        if (!price.IsSuccess)
        {
            errors.AddRange(price.Error!.Fields);
            return null;
        }

        if (Payment.PaymentWindowMinutes is < 0 or > 525_600)
        {
            errors.Add(new("payment.paymentWindowMinutes", "must be between 5 and 180 minutes"));
            return null;
        }

        var window = Payment.PaymentWindowMinutes is { } minutes ? Duration.FromMinutes(minutes) : Payments.PaymentRequirement.DefaultWindow;
        return new Payments.PaymentRequirement(price.Value, window);
    }

    private static ChangePolicySpec ToSpec(ChangePolicy policy) =>
        policy.MinimumNotice is { } notice ? new("upTo", (int)notice.TotalMinutes) : new("anyTime", null);

    private List<WeeklyHours> ParseWeekly(List<FieldError> errors)
    {
        var result = new List<WeeklyHours>();
        foreach (var (w, i) in (WeeklyHours ?? []).Select((w, i) => (w, i)))
        {
            var field = $"weeklyHours[{i}]";
            if (w is null || w.Day is null || !Days.TryGetValue(w.Day, out var day))
            {
                errors.Add(new(field + ".day", "must be a weekday name such as monday"));
                continue;
            }

            if (ParseRange(w.Start, w.End, field, errors) is { } range)
            {
                result.Add(new WeeklyHours(day, range));
            }
        }

        return result;
    }

    private List<DateOverride> ParseOverrides(List<FieldError> errors)
    {
        var result = new List<DateOverride>();
        foreach (var (o, i) in (DateOverrides ?? []).Select((o, i) => (o, i)))
        {
            var field = $"dateOverrides[{i}]";
            var parsed = o?.Date is null ? null : LocalDatePattern.Iso.Parse(o.Date);
            if (parsed is null || !parsed.Success)
            {
                errors.Add(new(field + ".date", "must be a date as yyyy-MM-dd"));
                continue;
            }

            var hours = new List<TimeOfDayRange>();
            foreach (var (h, j) in (o!.Hours ?? []).Select((h, j) => (h, j)))
            {
                if (ParseRange(h?.Start, h?.End, $"{field}.hours[{j}]", errors) is { } range)
                {
                    hours.Add(range);
                }
            }

            result.Add(new DateOverride(parsed.Value, hours));
        }

        return result;
    }

    private static TimeOfDayRange? ParseRange(string? start, string? end, string field, List<FieldError> errors)
    {
        if (!TimeOfDayRange.TryParseTime(start, out var s) || s == TimeOfDayRange.MinutesPerDay)
        {
            errors.Add(new(field + ".start", "must be a time as HH:mm"));
            return null;
        }

        if (!TimeOfDayRange.TryParseTime(end, out var e))
        {
            errors.Add(new(field + ".end", "must be a time as HH:mm (24:00 for midnight)"));
            return null;
        }

        if (e <= s)
        {
            errors.Add(new(field + ".end", "must be after start"));
            return null;
        }

        return new TimeOfDayRange(s, e);
    }

    private List<UserId> ParsePanel(List<FieldError> errors)
    {
        var result = new List<UserId>();
        foreach (var (id, i) in (PanelMemberIds ?? []).Select((id, i) => (id, i)))
        {
            if (!Ids.TryParse(id, out var guid))
            {
                errors.Add(new($"panelMemberIds[{i}]", "must be a user id"));
                continue;
            }

            result.Add(new UserId(guid));
        }

        return result;
    }

    private List<TeamMember> ParseTeam(List<FieldError> errors)
    {
        var result = new List<TeamMember>();
        foreach (var (m, i) in (TeamMembers ?? []).Select((m, i) => (m, i)))
        {
            if (m is null || !Ids.TryParse(m.UserId, out var guid))
            {
                errors.Add(new($"teamMembers[{i}].userId", "must be a user id"));
                continue;
            }

            // The range is checked by Validate, so settings built in code get the same check.
            result.Add(new TeamMember(new UserId(guid), m.Priority ?? TeamMember.DefaultPriority));
        }

        return result;
    }

    private static ChangePolicy ParsePolicy(ChangePolicySpec? spec, string field, List<FieldError> errors)
    {
        if (spec is null || string.Equals(spec.Kind, "anyTime", StringComparison.OrdinalIgnoreCase))
        {
            return ChangePolicy.AnyTime;
        }

        if (string.Equals(spec.Kind, "upTo", StringComparison.OrdinalIgnoreCase) && spec.MinutesBefore is >= 0 and <= 525_600)
        {
            return ChangePolicy.UpTo(Duration.FromMinutes(spec.MinutesBefore.Value));
        }

        errors.Add(new(field, "must be { \"kind\": \"anyTime\" } or { \"kind\": \"upTo\", \"minutesBefore\": 0-525600 }"));
        return ChangePolicy.AnyTime;
    }
}
