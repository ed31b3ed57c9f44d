using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;
using Rendezvous.Integrations.Notifications.Templates;
using Rendezvous.Integrations.Notifications;
using Rendezvous.Server.Features.Notifications.Templates;

namespace Rendezvous.Server.Features.Bookings;

/// <summary>
/// What a staff reschedule may carry besides the new time: public notes (null leaves them, "" removes them) and the
/// customer's email for this change.
/// </summary>
public sealed record RescheduleExtras(string? PublicNotes, EmailOverride? Email)
{
    public const int MaxMessageLength = 20_000;

    /// <summary>Validates the request's extras; unknown placeholders in the subject or message are named.</summary>
    public static Result<RescheduleExtras> From(RescheduleRequest request)
    {
        var errors = new List<FieldError>();
        if (request.PublicNotes is { Length: > Booking.MaxPublicNotesLength })
        {
            errors.Add(new("publicNotes", $"must be at most {Booking.MaxPublicNotesLength} characters"));
        }

        EmailOverride? email = null;
        if (request.Email is { } e)
        {
            var subject = string.IsNullOrWhiteSpace(e.Subject) ? null : e.Subject.Trim();
            var message = string.IsNullOrWhiteSpace(e.Message) ? null : e.Message;
            if (subject is not null)
            {
                if (subject.Length > EmailTemplateStore.MaxSubjectLength || subject.Any(char.IsControl))
                {
                    errors.Add(new("email.subject", $"must be one line of at most {EmailTemplateStore.MaxSubjectLength} characters"));
                }
                else
                {
                    errors.AddRange(EmailTemplateStore.Check("email.subject", subject));
                }
            }

            if (message is not null)
            {
                if (message.Length > MaxMessageLength)
                {
                    errors.Add(new("email.message", $"must be at most {MaxMessageLength} characters"));
                }
                else
                {
                    errors.AddRange(EmailTemplateStore.Check("email.message", message));
                }
            }

            email = new EmailOverride(e.Send ?? true, subject, message);
        }

        return errors.Count > 0 ? DomainError.Validation(errors) : new RescheduleExtras(request.PublicNotes, email);
    }
}
