using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Payments;
using Fixture = Rendezvous.Domain.Tests.Support.Bookings;

namespace Rendezvous.Domain.Tests.Bookings;

/// <summary>Bookings on pages with a price: awaiting payment, paid, expired, and refunded by hand.</summary>
public class PaymentTests
{
    private readonly Fixture _f = new();

    private Booking Unpaid() => _f.Create(payment: Fixture.Price);

    private Booking Paid()
    {
        var booking = Unpaid();
        booking.ConfirmPayment("CAP-1", _f.Customer, Fixture.Now + Duration.FromMinutes(5)).IsSuccess.ShouldBeTrue();
        booking.ClearPendingEvents();
        return booking;
    }

    [Fact]
    public void A_booking_on_a_page_with_a_price_awaits_payment_and_holds_its_time_until_the_window_closes()
    {
        var booking = Unpaid();

        booking.Status.ShouldBe(BookingStatus.AwaitingPayment);
        booking.DetailedStatus.ShouldBe("Awaiting payment");
        booking.Hosts.ShouldAllBe(h => h.Active);
        booking.Payment.ShouldNotBeNull();
        booking.Payment.Status.ShouldBe(PaymentStatus.Pending);
        booking.Payment.Price.ShouldBe(new Money(25m, "USD"));
        booking.Payment.DueAt.ShouldBe(Fixture.Now + Duration.FromMinutes(30));
        booking.PendingEvents.Single().Type.ShouldBe(BookingEvent.AwaitingPayment);
    }

    [Fact]
    public void The_payment_window_never_runs_past_the_start()
    {
        var soon = Fixture.Now + Duration.FromMinutes(10);
        var booking = Booking.Create(_f.Spec(start: soon, payment: Fixture.Price), Fixture.Now).Value;
        booking.Payment!.DueAt.ShouldBe(soon);

        var later = Unpaid();
        later.Reschedule(Fixture.Now + Duration.FromMinutes(20), _f.User, "earlier", Fixture.Now + Duration.FromMinutes(1)).IsSuccess.ShouldBeTrue();
        later.Status.ShouldBe(BookingStatus.AwaitingPayment);
        later.Payment!.DueAt.ShouldBe(Fixture.Now + Duration.FromMinutes(20));
    }

    [Fact]
    public void A_price_cannot_be_combined_with_approval_or_a_package()
    {
        Booking.Create(_f.Spec(requiresApproval: true, payment: Fixture.Price), Fixture.Now).Error!.Field.ShouldBe("payment");
        var package = _f.Spec(payment: Fixture.Price) with { SessionCount = 2 };
        Booking.Create(package, Fixture.Now).Error!.Field.ShouldBe("payment");
    }

    [Fact]
    public void Capturing_the_payment_schedules_the_booking_and_raises_created_once()
    {
        var booking = Unpaid();
        booking.ClearPendingEvents();
        var at = Fixture.Now + Duration.FromMinutes(7);

        booking.AttachPaymentOrder("ORDER-1", "https://paypal.example/approve", at).IsSuccess.ShouldBeTrue();
        booking.ConfirmPayment("CAP-1", _f.Customer, at).IsSuccess.ShouldBeTrue();

        booking.Status.ShouldBe(BookingStatus.Scheduled);
        booking.DetailedStatus.ShouldBe("Scheduled (Paid by Customer)");
        booking.Payment!.Status.ShouldBe(PaymentStatus.Paid);
        booking.Payment.CaptureId.ShouldBe("CAP-1");
        booking.Payment.PaidAt.ShouldBe(at);
        booking.History[^1].Action.ShouldBe(BookingAction.ConfirmPayment);
        var raised = booking.PendingEvents.ShouldHaveSingleItem();
        raised.Type.ShouldBe(BookingEvent.Created);
        raised.Status.ShouldBe(BookingStatus.Scheduled);

        // The same capture recorded again (a retry) changes nothing; another one is refused.
        booking.ClearPendingEvents();
        booking.ConfirmPayment("CAP-1", _f.Customer, at + Duration.FromMinutes(1)).IsSuccess.ShouldBeTrue();
        booking.PendingEvents.ShouldBeEmpty();
        booking.ConfirmPayment("CAP-2", _f.Customer, at).Error!.Code.ShouldBe("illegal_transition");
        booking.AttachPaymentOrder("ORDER-2", null, at).Error!.Code.ShouldBe("not_awaiting_payment");
    }

    [Fact]
    public void An_unpaid_booking_expires_only_once_its_window_has_closed_and_then_frees_its_time()
    {
        var booking = Unpaid();
        booking.ClearPendingEvents();
        var due = booking.Payment!.DueAt;

        booking.ExpirePayment(due - Duration.FromSeconds(1)).Error!.Code.ShouldBe("not_due");
        booking.Status.ShouldBe(BookingStatus.AwaitingPayment);

        booking.ExpirePayment(due).IsSuccess.ShouldBeTrue();
        booking.Status.ShouldBe(BookingStatus.Canceled);
        booking.DetailedStatus.ShouldBe("Canceled by System (payment not received)");
        booking.Payment.Status.ShouldBe(PaymentStatus.Expired);
        booking.Hosts.ShouldAllBe(h => !h.Active);
        booking.History[^1].ActorKind.ShouldBe(ActorKind.System);
        booking.PendingEvents.Single().Type.ShouldBe(BookingEvent.PaymentExpired);

        // Money that arrives after the booking expired cannot schedule it again.
        booking.ConfirmPayment("CAP-LATE", _f.Customer, due + Duration.FromMinutes(1)).Error!.Code.ShouldBe("illegal_transition");
    }

    [Fact]
    public void A_paid_booking_cannot_expire()
    {
        var booking = Paid();
        booking.ExpirePayment(booking.Payment!.DueAt + Duration.FromHours(1)).Error!.Code.ShouldBe("illegal_transition");
        booking.Status.ShouldBe(BookingStatus.Scheduled);
    }

    [Fact]
    public void Canceling_an_unpaid_booking_marks_its_payment_canceled()
    {
        var booking = Unpaid();
        booking.Cancel(_f.Customer, "changed my mind", Fixture.Now + Duration.FromMinutes(3)).IsSuccess.ShouldBeTrue();
        booking.Payment!.Status.ShouldBe(PaymentStatus.Canceled);
    }

    [Theory]
    [InlineData(ActorKind.CalendarSync)]
    [InlineData(ActorKind.User)]
    [InlineData(ActorKind.Customer)]
    public void Canceling_a_paid_booking_never_refunds_it(ActorKind kind)
    {
        // Seed 000: a booking canceled from the user's calendar issues no refund; no other cancel does either.
        var booking = Paid();
        var actor = kind switch
        {
            ActorKind.CalendarSync => _f.Calendar,
            ActorKind.User => _f.User,
            _ => _f.Customer,
        };

        booking.Cancel(actor, "off", Fixture.Now + Duration.FromHours(1)).IsSuccess.ShouldBeTrue();

        booking.Status.ShouldBe(BookingStatus.Canceled);
        booking.Payment!.Status.ShouldBe(PaymentStatus.Paid);
        booking.Payment.Refunds.ShouldBeEmpty();
        booking.Payment.RefundedAmount.ShouldBe(0m);
    }

    [Fact]
    public void An_administrator_refunds_by_hand_in_full_by_default()
    {
        var booking = Paid();
        var at = Fixture.Now + Duration.FromHours(2);

        var refund = booking.RequestRefund(null, "  Host was ill  ", _f.User, at).Value;

        refund.Amount.ShouldBe(25m);
        refund.Currency.ShouldBe("USD");
        refund.Reason.ShouldBe("Host was ill");
        refund.Status.ShouldBe(RefundStatus.Pending);
        refund.ActorKind.ShouldBe(ActorKind.User);
        booking.Payment!.Refundable.ShouldBe(0m);
        booking.RequestRefund(1m, "again", _f.User, at).Error!.Code.ShouldBe("nothing_refundable");

        booking.CompleteRefund(refund.Id, "REF-1", at + Duration.FromSeconds(2)).IsSuccess.ShouldBeTrue();
        booking.CompleteRefund(refund.Id, "REF-1", at + Duration.FromSeconds(3)).IsSuccess.ShouldBeTrue();
        booking.Payment.Status.ShouldBe(PaymentStatus.Refunded);
        booking.Payment.RefundedAmount.ShouldBe(25m);
        refund.ProviderRefundId.ShouldBe("REF-1");
        booking.Status.ShouldBe(BookingStatus.Scheduled);
    }

    [Fact]
    public void Partial_refunds_add_up_to_the_price_at_most()
    {
        var booking = Paid();
        var at = Fixture.Now + Duration.FromHours(2);

        var first = booking.RequestRefund(10m, "goodwill", _f.User, at).Value;
        booking.RequestRefund(15.01m, "too much", _f.User, at).Error!.Field.ShouldBe("amount");
        booking.RequestRefund(0m, "nothing", _f.User, at).Error!.Field.ShouldBe("amount");
        booking.RequestRefund(1.005m, "fraction of a cent", _f.User, at).Error!.Field.ShouldBe("amount");
        booking.CompleteRefund(first.Id, "REF-1", at).IsSuccess.ShouldBeTrue();
        booking.Payment!.Status.ShouldBe(PaymentStatus.PartiallyRefunded);

        var failed = booking.RequestRefund(15m, "rest", _f.User, at).Value;
        booking.FailRefund(failed.Id, "CAPTURE_FULLY_REFUNDED", at).IsSuccess.ShouldBeTrue();
        booking.Payment.Refundable.ShouldBe(15m);
        booking.Payment.Status.ShouldBe(PaymentStatus.PartiallyRefunded);
        booking.Payment.Refunds.Select(r => r.Status).ShouldBe([RefundStatus.Completed, RefundStatus.Failed]);
    }

    [Fact]
    public void Only_users_refund_and_only_captured_payments()
    {
        var at = Fixture.Now + Duration.FromHours(2);
        Paid().RequestRefund(null, "x", _f.Customer, at).Error!.Kind.ShouldBe(ErrorKind.Forbidden);
        Paid().RequestRefund(null, "x", _f.Calendar, at).Error!.Kind.ShouldBe(ErrorKind.Forbidden);
        Paid().RequestRefund(null, " ", _f.User, at).Error!.Field.ShouldBe("reason");
        Unpaid().RequestRefund(null, "x", _f.User, at).Error!.Code.ShouldBe("not_paid");
        _f.Create().RequestRefund(null, "x", _f.User, at).Error!.Code.ShouldBe("not_paid");
    }

    [Theory]
    [InlineData(25.5, "USD", true)]
    [InlineData(1500, "JPY", true)]
    [InlineData(1500.5, "JPY", false)]
    [InlineData(10.123, "EUR", false)]
    [InlineData(-1, "EUR", false)]
    [InlineData(10, "XYZ", false)]
    [InlineData(10, "usd", true)]
    public void Money_follows_the_currency_rules(double amount, string currency, bool valid)
    {
        var money = Money.Create((decimal)amount, currency, "payment");
        money.IsSuccess.ShouldBe(valid);
        if (valid)
        {
            money.Value.Currency.ShouldBe(currency.ToUpperInvariant());
        }
    }

    [Fact]
    public void Amounts_are_written_with_the_currency_s_decimals()
    {
        new Money(25m, "USD").FormatAmount().ShouldBe("25.00");
        new Money(1500m, "JPY").FormatAmount().ShouldBe("1500");
        new Money(9.5m, "EUR").ToString().ShouldBe("9.50 EUR");
    }

    [Fact]
    public void Page_settings_validate_the_price()
    {
        BookingPageSettingsSpec Page(PaymentSpec payment, bool approval = false, string option = "oneOnOne") => new()
        {
            DurationMinutes = 30, TimeZone = "Europe/London", Payment = payment, RequiresApproval = approval, SchedulingOption = option,
            SessionCount = option == "sessionPackage" ? 2 : null,
        };

        var ok = Page(new PaymentSpec(40m, "gbp", null)).ToSettings().Value;
        ok.Payment!.Price.ShouldBe(new Money(40m, "GBP"));
        ok.Payment.PaymentWindow.ShouldBe(Duration.FromMinutes(30));
        BookingPageSettingsSpec.FromSettings(ok).Payment.ShouldBe(new PaymentSpec(40m, "GBP", 30));

        Fields(Page(new PaymentSpec(null, "USD", null))).ShouldContain("payment.amount");
        Fields(Page(new PaymentSpec(0m, "USD", null))).ShouldContain("payment.amount");
        Fields(Page(new PaymentSpec(10m, "ABC", null))).ShouldContain("payment.currency");
        Fields(Page(new PaymentSpec(10m, "USD", 2))).ShouldContain("payment.paymentWindowMinutes");
        Fields(Page(new PaymentSpec(10m, "USD", 181))).ShouldContain("payment.paymentWindowMinutes");
        Fields(Page(new PaymentSpec(10m, "USD", null), approval: true)).ShouldContain("payment");
        Fields(Page(new PaymentSpec(10m, "USD", null), option: "sessionPackage")).ShouldContain("payment");
    }

    private static List<string> Fields(BookingPageSettingsSpec spec)
    {
        var result = spec.ToSettings();
        result.IsSuccess.ShouldBeFalse();
        return [.. result.Error!.Fields.Select(f => f.Field)];
    }
}
