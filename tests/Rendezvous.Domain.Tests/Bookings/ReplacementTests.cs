using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Tests.Support;
using Fixture = Rendezvous.Domain.Tests.Support.Bookings;

namespace Rendezvous.Domain.Tests.Bookings;

public class ReplacementTests
{
    private readonly Fixture _f = new();

    private Booking Canceled()
    {
        var booking = _f.Create();
        booking.Cancel(_f.Customer, null, Fixture.Now).IsSuccess.ShouldBeTrue();
        return booking;
    }

    [Fact]
    public void Canceled_booking_links_to_its_replacement_both_ways()
    {
        var old = Canceled();
        var replacement = _f.Create();

        old.LinkReplacement(replacement).IsSuccess.ShouldBeTrue();

        old.ReplacedByBookingId.ShouldBe(replacement.Id);
        replacement.ReplacesBookingId.ShouldBe(old.Id);
        old.Status.ShouldBe(BookingStatus.Canceled);
    }

    [Fact]
    public void Only_a_canceled_booking_can_be_replaced()
    {
        var active = _f.Create();
        var replacement = _f.Create();

        var result = active.LinkReplacement(replacement);

        result.Error!.Code.ShouldBe("not_canceled");
        active.ReplacedByBookingId.ShouldBeNull();
        replacement.ReplacesBookingId.ShouldBeNull();
    }

    [Fact]
    public void Replacement_must_belong_to_the_same_customer()
    {
        var old = Canceled();
        var someoneElse = _f.Create(customer: CustomerId.New());

        var result = old.LinkReplacement(someoneElse);

        result.Error!.Field.ShouldBe("replacesBookingId");
        old.ReplacedByBookingId.ShouldBeNull();
        someoneElse.ReplacesBookingId.ShouldBeNull();
    }

    [Fact]
    public void Canceled_booking_is_replaced_at_most_once()
    {
        var old = Canceled();
        var first = _f.Create();
        var second = _f.Create();
        old.LinkReplacement(first).IsSuccess.ShouldBeTrue();

        var result = old.LinkReplacement(second);

        result.Error!.Code.ShouldBe("already_replaced");
        old.ReplacedByBookingId.ShouldBe(first.Id);
        second.ReplacesBookingId.ShouldBeNull();
    }

    [Fact]
    public void Booking_cannot_replace_itself()
    {
        var old = Canceled();

        var result = old.LinkReplacement(old);

        result.IsSuccess.ShouldBeFalse();
        result.Error!.Field.ShouldBe("replacesBookingId");
        old.ReplacedByBookingId.ShouldBeNull();
        old.ReplacesBookingId.ShouldBeNull();
    }

    [Fact]
    public void Replacement_that_already_replaces_another_booking_is_refused()
    {
        var firstCanceled = Canceled();
        var secondCanceled = Canceled();
        var replacement = _f.Create();
        firstCanceled.LinkReplacement(replacement).IsSuccess.ShouldBeTrue();

        var result = secondCanceled.LinkReplacement(replacement);

        result.IsSuccess.ShouldBeFalse();
        result.Error!.Code.ShouldBe("already_replaces");
        replacement.ReplacesBookingId.ShouldBe(firstCanceled.Id);
        secondCanceled.ReplacedByBookingId.ShouldBeNull();
    }
}
