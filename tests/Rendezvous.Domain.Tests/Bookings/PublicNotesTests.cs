using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Tests.Support;
using Fixture = Rendezvous.Domain.Tests.Support.Bookings;

namespace Rendezvous.Domain.Tests.Bookings;

public class PublicNotesTests
{
    private readonly Fixture _f = new();

    [Fact]
    public void Team_members_set_trim_and_clear_public_notes_without_an_event()
    {
        var booking = _f.Create();
        booking.ClearPendingEvents();
        var later = Fixture.Now + Duration.FromMinutes(5);

        booking.SetPublicNotes("  Bring your laptop.  ", Actor.ForUser(_f.OwnerId), later).IsSuccess.ShouldBeTrue();
        booking.PublicNotes.ShouldBe("Bring your laptop.");
        booking.UpdatedAt.ShouldBe(later);
        booking.PendingEvents.ShouldBeEmpty();
        booking.History.Count.ShouldBe(1);

        booking.SetPublicNotes("   ", Actor.System, later).IsSuccess.ShouldBeTrue();
        booking.PublicNotes.ShouldBeNull();
    }

    [Fact]
    public void Customers_cannot_set_public_notes_and_long_notes_are_refused()
    {
        var booking = _f.Create();
        booking.SetPublicNotes("mine", Actor.ForCustomer(_f.CustomerId), Fixture.Now).Error!.Kind.ShouldBe(ErrorKind.Forbidden);
        var tooLong = booking.SetPublicNotes(new string('x', Booking.MaxPublicNotesLength + 1), Actor.ForUser(_f.OwnerId), Fixture.Now);
        tooLong.Error!.Field.ShouldBe("publicNotes");
        booking.PublicNotes.ShouldBeNull();
    }
}
