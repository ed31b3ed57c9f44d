using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Server.Features.Outbox;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App.Admin;

/// <summary>
/// The outbox's failing messages (dead, and waiting for a retry) with their last error; a dead message can be replayed,
/// alone or with every dead message of its type.
/// </summary>
public sealed class OutboxModel(OutboxAdministration outbox, IClock clock) : StaffPageModel
{
    public const int PageSize = 100;

    public IReadOnlyList<OutboxMessage> Messages { get; private set; } = [];

    public IReadOnlyList<(string Type, int Dead, int Retrying)> Counts { get; private set; } = [];

    public Instant Now { get; private set; }

    [BindProperty(SupportsGet = true)]
    public string? State { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Type { get; set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostReplayAsync(long id, CancellationToken ct)
    {
        switch (await outbox.ReplayAsync(Me.OrganizationId, id, ct))
        {
            case OutboxReplayOutcome.Replayed:
                Flash($"Message {id} will be tried again now.");
                break;
            case OutboxReplayOutcome.NotDead:
                Flash($"Message {id} is not dead any more; nothing to replay.");
                break;
            default:
                break;
        }

        return Go(Here());
    }

    public async Task<IActionResult> OnPostReplayTypeAsync(string type, CancellationToken ct)
    {
        var replayed = await outbox.ReplayTypeAsync(Me.OrganizationId, type, ct);
        Flash(replayed == 0 ? $"No dead {type} message to replay." : $"{WebFormat.Plural(replayed, $"dead {type} message")} will be tried again now.");
        return Go(Here());
    }

    private string Here() => "/app/admin/outbox" + (string.IsNullOrEmpty(State) ? "" : $"?state={Uri.EscapeDataString(State)}");

    private async Task LoadAsync(CancellationToken ct)
    {
        ViewData["Title"] = "Outbox";
        ViewData["Nav"] = "outbox";
        Now = clock.GetCurrentInstant();
        var state = State is { } s && OutboxAdministration.States.Contains(s) ? s : "failing";
        State = state;
        Messages = await outbox.ListAsync(Me.OrganizationId, state, string.IsNullOrWhiteSpace(Type) ? null : Type, PageSize, ct);
        Counts = await outbox.CountsAsync(Me.OrganizationId, ct);
    }
}
