using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.BookingPages;

/// <summary>
/// Creating and changing a booking page: the one implementation the API endpoints and the page editor both call. The
/// checks are <see cref="BookingPagesEndpoints.CheckAsync"/>; a failure comes back as a result for each caller to show
/// its own way.
/// </summary>
public sealed class BookingPageService(RendezvousDbContext db, IClock clock)
{
    public async Task<Result<BookingPage>> CreateAsync(BookingPageRequest request, CurrentUser me, CancellationToken ct)
    {
        var checkedRequest = await BookingPagesEndpoints.CheckAsync(request, null, me, db, ct);
        if (!checkedRequest.IsSuccess)
        {
            return checkedRequest.Error!;
        }

        var (owner, settings, conferencing) = checkedRequest.Value;
        var page = new BookingPage(BookingPageId.New(), me.OrganizationId, owner, request.Slug!, request.Title!.Trim(),
            BookingPagesEndpoints.Clean(request.Description), BookingPagesEndpoints.Clean(request.Location), settings, clock.GetCurrentInstant());
        page.SetConferencing(conferencing);
        db.BookingPages.Add(page);
        await db.SaveChangesAsync(ct);
        return page;
    }

    /// <summary>Replaces every setting of <paramref name="page"/>; without an owner in the request it keeps its owner.</summary>
    public async Task<Result<BookingPage>> UpdateAsync(BookingPage page, BookingPageRequest request, CurrentUser me, CancellationToken ct)
    {
        if (!me.IsAdministrator && page.OwnerId != me.Id)
        {
            return new DomainError(ErrorKind.Forbidden, "not_yours", "Members may only change their own booking pages.");
        }

        var checkedRequest = await BookingPagesEndpoints.CheckAsync(request with { OwnerId = request.OwnerId ?? page.OwnerId.ToString() }, page, me,
            db, ct);
        if (!checkedRequest.IsSuccess)
        {
            return checkedRequest.Error!;
        }

        var (owner, settings, conferencing) = checkedRequest.Value;
        page.Update(owner, request.Slug!, request.Title!.Trim(), BookingPagesEndpoints.Clean(request.Description),
            BookingPagesEndpoints.Clean(request.Location), settings);
        page.SetConferencing(conferencing);
        await db.SaveChangesAsync(ct);
        return page;
    }
}
