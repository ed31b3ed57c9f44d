using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Rendezvous.Data.Migrations;

/// <summary>
/// No-code automations (decision 0025): rules per organization or per booking page, and their runs. A run is unique per
/// rule, booking and occurrence (the outbox message of the event, or the time trigger and the start it is for), which is
/// what makes each rule act once per booking and trigger. Read and written with SQL only, outside the EF model, so the
/// snapshot is unchanged.
/// </summary>
[DbContext(typeof(RendezvousDbContext))]
[Migration("202612060020_Automations")]
public sealed class M0020Automations : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("""
            CREATE TABLE automations (
                id uuid PRIMARY KEY,
                organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
                booking_page_id uuid NULL REFERENCES booking_pages (id) ON DELETE CASCADE,
                name text NOT NULL,
                enabled boolean NOT NULL,
                trigger text NOT NULL CONSTRAINT ck_automations_trigger
                    CHECK (trigger IN ('booked', 'rescheduled', 'canceled', 'noShow', 'completed', 'reassigned', 'beforeStart', 'afterEnd')),
                offset_minutes integer NOT NULL DEFAULT 0,
                filters jsonb NOT NULL,
                action jsonb NOT NULL,
                created_by uuid NULL,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL
            );
            CREATE INDEX ix_automations_organization ON automations (organization_id, booking_page_id);

            CREATE TABLE automation_runs (
                id uuid PRIMARY KEY,
                organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
                automation_id uuid NOT NULL REFERENCES automations (id) ON DELETE CASCADE,
                booking_id uuid NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
                occurrence text NOT NULL,
                trigger text NOT NULL,
                due_at timestamptz NOT NULL,
                for_start timestamptz NOT NULL,
                status text NOT NULL CONSTRAINT ck_automation_runs_status
                    CHECK (status IN ('Pending', 'Running', 'Succeeded', 'Failed', 'Skipped', 'Canceled')),
                attempts integer NOT NULL DEFAULT 0,
                locked_until timestamptz NULL,
                result text NULL,
                last_error text NULL,
                created_at timestamptz NOT NULL,
                finished_at timestamptz NULL,
                CONSTRAINT ux_automation_runs_once UNIQUE (automation_id, booking_id, occurrence)
            );
            CREATE INDEX ix_automation_runs_booking ON automation_runs (booking_id, status);
            CREATE INDEX ix_automation_runs_recent ON automation_runs (automation_id, created_at DESC);
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            DROP TABLE IF EXISTS automation_runs;
            DROP TABLE IF EXISTS automations;
            """);
}
