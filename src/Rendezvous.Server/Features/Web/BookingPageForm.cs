using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Rendezvous.Domain;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Server.Features.BookingPages;

namespace Rendezvous.Server.Features.Web;

/// <summary>One date override row: a date and its hours ("closed" or empty: unavailable all day).</summary>
public sealed class OverrideRow
{
    public string? Date { get; set; }

    public string? Hours { get; set; }
}

/// <summary>One custom question row; an empty id is made from the label.</summary>
public sealed class QuestionRow
{
    public string? Id { get; set; }

    public string? Label { get; set; }

    public bool Required { get; set; }
}

/// <summary>
/// Every setting of a booking page as an HTML form holds it, and the way to and from the API's
/// <see cref="BookingPageRequest"/>. Validation is the domain's (<see cref="BookingPageSettingsSpec.ToSettings"/> through
/// <see cref="BookingPagesEndpoints"/>); this class only turns its field names back into the form's, so each message
/// appears next to the input it is about.
/// </summary>
public sealed partial class BookingPageForm
{
    public static readonly string[] Days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

    public string? Title { get; set; }

    public string? Slug { get; set; }

    public string? Description { get; set; }

    public string? Location { get; set; }

    public string? OwnerId { get; set; }

    public int? DurationMinutes { get; set; }

    public string? TimeZone { get; set; }

    /// <summary>Per weekday: "09:00-12:00, 13:00-17:00"; empty means closed.</summary>
    public Dictionary<string, string?> Hours { get; set; } = [];

    public List<OverrideRow> Overrides { get; set; } = [];

    public int? SlotIntervalMinutes { get; set; }

    public int? BufferBeforeMinutes { get; set; }

    public int? BufferAfterMinutes { get; set; }

    public int? MinimumNoticeMinutes { get; set; }

    public int? BookingWindowDays { get; set; }

    public int? MaxBookingsPerDay { get; set; }

    public int? MaxBookingsPerWeek { get; set; }

    public string SchedulingOption { get; set; } = "oneOnOne";

    public int? SeatsPerSlot { get; set; }

    public int? SessionCount { get; set; }

    public List<string> PanelMemberIds { get; set; } = [];

    /// <summary>The team of a round-robin or collective page (ids, in the order the form lists users).</summary>
    public List<string> TeamMemberIds { get; set; } = [];

    /// <summary>Each team member's priority (0-10) by user id; unset is 5.</summary>
    public Dictionary<string, int?> TeamPriorities { get; set; } = [];

    /// <summary>"fewestBookings" or "priority".</summary>
    public string RoundRobinBalance { get; set; } = "fewestBookings";

    public int? BalanceWindowDays { get; set; }

    public bool RequiresApproval { get; set; }

    public string CancellationKind { get; set; } = "anyTime";

    public int? CancellationMinutes { get; set; }

    public string RescheduleKind { get; set; } = "anyTime";

    public int? RescheduleMinutes { get; set; }

    public int?[] Reminders { get; set; } = new int?[BookingPageSettings.MaxReminders];

    public int? FollowUp { get; set; }

    public List<QuestionRow> Questions { get; set; } = [];

    /// <summary>"zoom", "gotomeeting", "webex", or empty for none (the location is used).</summary>
    public string? Conferencing { get; set; }

    /// <summary>The price of each booking; empty: the page is free.</summary>
    public decimal? PaymentAmount { get; set; }

    public string? PaymentCurrency { get; set; }

    public int? PaymentWindowMinutes { get; set; }

    /// <summary>What the field names of the form are called in messages.</summary>
    public static void Label(FieldErrors errors)
    {
        var labels = new Dictionary<string, string>
        {
            ["title"] = "The title", ["slug"] = "The address", ["description"] = "The description", ["location"] = "The location",
            ["ownerId"] = "The owner", ["durationMinutes"] = "The duration", ["timeZone"] = "The time zone",
            ["slotIntervalMinutes"] = "The interval", ["bufferBeforeMinutes"] = "The buffer before", ["bufferAfterMinutes"] = "The buffer after",
            ["minimumNoticeMinutes"] = "The minimum notice", ["bookingWindowDays"] = "The booking window", ["maxBookingsPerDay"] = "The daily cap",
            ["maxBookingsPerWeek"] = "The weekly cap", ["schedulingOption"] = "The scheduling option", ["seatsPerSlot"] = "Seats",
            ["sessionCount"] = "Sessions", ["panelMemberIds"] = "Panel members", ["teamMembers"] = "The team",
            ["roundRobinBalance"] = "The balance", ["balanceWindowDays"] = "The balance window", ["cancellationPolicy"] = "The cancellation policy",
            ["reschedulePolicy"] = "The reschedule policy", ["reminders"] = "Reminders", ["followUp"] = "The follow-up",
            ["questions"] = "Questions", ["overrides"] = "Date overrides", ["hours"] = "Weekly hours",
            ["conferencing"] = "Video conferencing", ["payment"] = "Payment", ["payment.amount"] = "The price",
            ["payment.currency"] = "The currency", ["payment.paymentWindowMinutes"] = "The time to pay",
        };
        foreach (var (k, v) in labels)
        {
            errors.Labels[k] = v;
        }

        foreach (var day in Days)
        {
            errors.Labels[$"hours.{day}"] = CultureInfo.InvariantCulture.TextInfo.ToTitleCase(day) + " hours";
        }

        for (var i = 0; i < BookingPageSettings.MaxReminders; i++)
        {
            errors.Labels[$"reminders[{i}]"] = $"Reminder {i + 1}";
        }
    }

    /// <summary>A form for a new page: weekdays 09:00-17:00 in <paramref name="zone"/>, 30 minutes, one reminder a day before.</summary>
    public static BookingPageForm ForNew(string zone, string ownerId) => new()
    {
        OwnerId = ownerId,
        DurationMinutes = 30,
        TimeZone = zone,
        Hours = Days.ToDictionary(d => d, d => d is "saturday" or "sunday" ? null : (string?)"09:00-17:00"),
        BookingWindowDays = 60,
        BufferBeforeMinutes = 0,
        BufferAfterMinutes = 0,
        MinimumNoticeMinutes = 0,
        Reminders = [1440, null, null],
    };

    public static BookingPageForm From(BookingPage page)
    {
        var s = BookingPageSettingsSpec.FromSettings(page.Settings);
        var form = new BookingPageForm
        {
            Title = page.Title,
            Slug = page.Slug,
            Description = page.Description,
            Location = page.Location,
            OwnerId = page.OwnerId.ToString(),
            DurationMinutes = s.DurationMinutes,
            TimeZone = s.TimeZone,
            Hours = Days.ToDictionary(d => d, d => (string?)string.Join(", ",
                (s.WeeklyHours ?? []).Where(w => w.Day == d).Select(w => $"{w.Start}-{w.End}"))),
            Overrides = [.. (s.DateOverrides ?? []).Select(o => new OverrideRow
            {
                Date = o.Date,
                Hours = o.Hours is null or { Count: 0 } ? "closed" : string.Join(", ", o.Hours.Select(h => $"{h.Start}-{h.End}")),
            })],
            SlotIntervalMinutes = s.SlotIntervalMinutes == s.DurationMinutes ? null : s.SlotIntervalMinutes,
            BufferBeforeMinutes = s.BufferBeforeMinutes,
            BufferAfterMinutes = s.BufferAfterMinutes,
            MinimumNoticeMinutes = s.MinimumNoticeMinutes,
            BookingWindowDays = s.BookingWindowDays,
            MaxBookingsPerDay = s.MaxBookingsPerDay,
            MaxBookingsPerWeek = s.MaxBookingsPerWeek,
            SchedulingOption = s.SchedulingOption ?? "oneOnOne",
            SeatsPerSlot = s.SchedulingOption == "groupSession" ? s.SeatsPerSlot : null,
            SessionCount = s.SchedulingOption == "sessionPackage" ? s.SessionCount : null,
            PanelMemberIds = [.. s.PanelMemberIds ?? []],
            TeamMemberIds = [.. (s.TeamMembers ?? []).Select(m => m.UserId ?? "")],
            TeamPriorities = (s.TeamMembers ?? []).Where(m => m.UserId is not null).ToDictionary(m => m.UserId!, m => m.Priority),
            RoundRobinBalance = s.RoundRobinBalance ?? "fewestBookings",
            BalanceWindowDays = s.BalanceWindowDays,
            RequiresApproval = s.RequiresApproval ?? false,
            CancellationKind = s.CancellationPolicy?.Kind ?? "anyTime",
            CancellationMinutes = s.CancellationPolicy?.MinutesBefore,
            RescheduleKind = s.ReschedulePolicy?.Kind ?? "anyTime",
            RescheduleMinutes = s.ReschedulePolicy?.MinutesBefore,
            FollowUp = s.FollowUp?.OffsetMinutes,
            Questions = [.. (s.Questions ?? []).Select(q => new QuestionRow { Id = q.Id, Label = q.Label, Required = q.Required ?? false })],
            Conferencing = page.Conferencing is { } c ? Domain.Conferencing.ConferencingProviders.ApiName(c) : null,
            PaymentAmount = s.Payment?.Amount,
            PaymentCurrency = s.Payment?.Currency,
            PaymentWindowMinutes = s.Payment?.PaymentWindowMinutes,
        };
        var reminders = s.Reminders ?? [];
        for (var i = 0; i < form.Reminders.Length; i++)
        {
            form.Reminders[i] = i < reminders.Count ? reminders[i].OffsetMinutes : null;
        }

        return form;
    }

    /// <summary>
    /// The API request this form stands for, and a function that names the form field for each API field. Text the API
    /// cannot even receive (hours that are not "HH:mm-HH:mm") is reported into <paramref name="errors"/> directly.
    /// </summary>
    public (BookingPageRequest Request, Func<string, string> FieldOf) ToRequest(FieldErrors errors)
    {
        var weekly = new List<WeeklyHoursSpec>();
        var weeklyDay = new List<string>();
        foreach (var day in Days)
        {
            if (ParseRanges(Hours.GetValueOrDefault(day), $"hours.{day}", errors) is { } ranges)
            {
                foreach (var (start, end) in ranges)
                {
                    weekly.Add(new WeeklyHoursSpec(day, start, end));
                    weeklyDay.Add(day);
                }
            }
        }

        var overrides = new List<DateOverrideSpec>();
        var overrideRow = new List<int>();
        for (var i = 0; i < Overrides.Count; i++)
        {
            var row = Overrides[i];
            if (string.IsNullOrWhiteSpace(row.Date) && string.IsNullOrWhiteSpace(row.Hours))
            {
                continue;
            }

            var closed = string.IsNullOrWhiteSpace(row.Hours) || string.Equals(row.Hours.Trim(), "closed", StringComparison.OrdinalIgnoreCase);
            var ranges = closed ? [] : ParseRanges(row.Hours, $"overrides[{i}]", errors);
            if (ranges is null)
            {
                continue;
            }

            overrides.Add(new DateOverrideSpec(row.Date?.Trim(), [.. ranges.Select(r => new TimeRangeSpec(r.Start, r.End))]));
            overrideRow.Add(i);
        }

        var questions = new List<QuestionSpec>();
        var questionRow = new List<int>();
        for (var i = 0; i < Questions.Count; i++)
        {
            var q = Questions[i];
            if (string.IsNullOrWhiteSpace(q.Id) && string.IsNullOrWhiteSpace(q.Label))
            {
                continue;
            }

            var id = string.IsNullOrWhiteSpace(q.Id) ? IdFrom(q.Label) : q.Id.Trim().ToLowerInvariant();
            questions.Add(new QuestionSpec(id, q.Label, q.Required));
            questionRow.Add(i);
        }

        var reminders = new List<ReminderSpec>();
        var reminderRow = new List<int>();
        for (var i = 0; i < Reminders.Length; i++)
        {
            if (Reminders[i] is { } minutes)
            {
                reminders.Add(new ReminderSpec(minutes, "email"));
                reminderRow.Add(i);
            }
        }

        var request = new BookingPageRequest
        {
            OwnerId = string.IsNullOrWhiteSpace(OwnerId) ? null : OwnerId,
            Slug = Slug?.Trim().ToLowerInvariant(),
            Title = Title,
            Description = Description,
            Location = Location,
            DurationMinutes = DurationMinutes,
            TimeZone = TimeZone,
            WeeklyHours = weekly,
            DateOverrides = overrides,
            SlotIntervalMinutes = SlotIntervalMinutes,
            BufferBeforeMinutes = BufferBeforeMinutes,
            BufferAfterMinutes = BufferAfterMinutes,
            MinimumNoticeMinutes = MinimumNoticeMinutes,
            BookingWindowDays = BookingWindowDays,
            MaxBookingsPerDay = MaxBookingsPerDay,
            MaxBookingsPerWeek = MaxBookingsPerWeek,
            SchedulingOption = SchedulingOption,
            SeatsPerSlot = SchedulingOption == "groupSession" ? SeatsPerSlot : null,
            SessionCount = SchedulingOption == "sessionPackage" ? SessionCount : null,
            PanelMemberIds = SchedulingOption == "panel" ? PanelMemberIds : [],
            TeamMembers = SchedulingOption is "roundRobin" or "collective"
                ? [.. TeamMemberIds.Select(id => new TeamMemberSpec(id, TeamPriorities.GetValueOrDefault(id) ?? TeamMember.DefaultPriority))]
                : [],
            RoundRobinBalance = SchedulingOption == "roundRobin" ? RoundRobinBalance : null,
            BalanceWindowDays = SchedulingOption == "roundRobin" ? BalanceWindowDays : null,
            RequiresApproval = RequiresApproval,
            CancellationPolicy = new ChangePolicySpec(CancellationKind, CancellationKind == "upTo" ? CancellationMinutes : null),
            ReschedulePolicy = new ChangePolicySpec(RescheduleKind, RescheduleKind == "upTo" ? RescheduleMinutes : null),
            Reminders = reminders,
            FollowUp = FollowUp is { } f ? new ReminderSpec(f, "email") : null,
            Questions = questions,
            Conferencing = string.IsNullOrWhiteSpace(Conferencing) ? null : new ConferencingSpec(Conferencing),
            Payment = PaymentAmount is null && string.IsNullOrWhiteSpace(PaymentCurrency)
                ? null
                : new PaymentSpec(PaymentAmount, PaymentCurrency?.Trim().ToUpperInvariant(), PaymentWindowMinutes),
        };

        string FieldOf(string field)
        {
            if (Indexed(field, "weeklyHours") is { } w)
            {
                return w < weeklyDay.Count ? $"hours.{weeklyDay[w]}" : "hours";
            }

            if (field == "weeklyHours")
            {
                return "hours";
            }

            if (Indexed(field, "dateOverrides") is { } o)
            {
                return o < overrideRow.Count ? $"overrides[{overrideRow[o]}]" : "overrides";
            }

            if (field == "dateOverrides")
            {
                return "overrides";
            }

            if (Indexed(field, "questions") is { } q)
            {
                var rest = field[(field.IndexOf(']', StringComparison.Ordinal) + 1)..];
                return q < questionRow.Count ? $"questions[{questionRow[q]}]{(rest == ".id" ? ".id" : ".label")}" : "questions";
            }

            if (Indexed(field, "reminders") is { } r)
            {
                return r < reminderRow.Count ? $"reminders[{reminderRow[r]}]" : "reminders";
            }

            return field switch
            {
                "followUp.offsetMinutes" or "followUp.channel" => "followUp",
                "conferencing.provider" => "conferencing",
                _ when field.StartsWith("panelMemberIds", StringComparison.Ordinal) => "panelMemberIds",
                _ when field.StartsWith("teamMembers", StringComparison.Ordinal) => "teamMembers",
                _ => field,
            };
        }

        return (request, FieldOf);
    }

    /// <summary>"Ranges on Tuesday overlap" belongs next to Tuesday's hours.</summary>
    public static string PlaceDayMessage(string field, string message)
    {
        if (field != "hours")
        {
            return field;
        }

        var day = Days.FirstOrDefault(d => message.Contains(d, StringComparison.OrdinalIgnoreCase));
        return day is null ? field : $"hours.{day}";
    }

    private static int? Indexed(string field, string name) =>
        field.StartsWith(name + "[", StringComparison.Ordinal)
        && int.TryParse(field.AsSpan(name.Length + 1, field.IndexOf(']', StringComparison.Ordinal) - name.Length - 1), NumberStyles.None,
            CultureInfo.InvariantCulture, out var i)
            ? i
            : null;

    /// <summary>"09:00-12:00, 13:00-17:00" as ranges; null (with an error on <paramref name="field"/>) when it is not that shape.</summary>
    private static List<(string Start, string End)>? ParseRanges(string? text, string field, FieldErrors errors)
    {
        var result = new List<(string, string)>();
        if (string.IsNullOrWhiteSpace(text))
        {
            return result;
        }

        foreach (var part in text.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var match = RangePattern().Match(part);
            if (!match.Success)
            {
                errors.Add(field, $"must be written like 09:00-17:00, with ranges separated by commas (\"{part}\" is not a range)");
                return null;
            }

            result.Add((Pad(match.Groups[1].Value), Pad(match.Groups[2].Value)));
        }

        return result;
    }

    private static string Pad(string time) => time.Length == 4 ? "0" + time : time;

    /// <summary>"What brings you here?" becomes "what-brings-you-here".</summary>
    public static string IdFrom(string? label)
    {
        var sb = new StringBuilder();
        foreach (var c in (label ?? "").ToLowerInvariant())
        {
            if (c is (>= 'a' and <= 'z') or (>= '0' and <= '9'))
            {
                sb.Append(c);
            }
            else if (sb.Length > 0 && sb[^1] != '-')
            {
                sb.Append('-');
            }

            if (sb.Length >= 40)
            {
                break;
            }
        }

        var id = sb.ToString().Trim('-');
        return id.Length == 0 ? "question" : id;
    }

    [GeneratedRegex(@"^(\d{1,2}:\d{2})\s*(?:-|–|to)\s*(\d{1,2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex RangePattern();
}
