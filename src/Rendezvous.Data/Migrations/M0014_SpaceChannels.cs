using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Rendezvous.Data.Migrations;

/// <summary>
/// How invitations reach a space and its answers leave (docs/SPACES.md, decision 0019): one channel per space (CalDAV
/// scheduling, iMIP over IMAP, Microsoft Graph) with its encrypted secret, polling state and lease, and the invitations
/// each channel brought, with the last answer sent.
/// </summary>
[DbContext(typeof(RendezvousDbContext))]
[Migration("202612060014_SpaceChannels")]
public sealed class M0014SpaceChannels : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("""
            CREATE TABLE space_channels (
                space_id uuid PRIMARY KEY REFERENCES spaces (id) ON DELETE CASCADE,
                organization_id uuid NOT NULL REFERENCES organizations (id),
                kind text NOT NULL,
                address text NOT NULL,
                server_url text NULL,
                imap_host text NULL,
                imap_port integer NULL,
                imap_security text NULL,
                user_name text NOT NULL,
                protected_secret text NOT NULL,
                tenant text NULL,
                calendar_href text NULL,
                sync_token text NULL,
                imap_uid_validity bigint NULL,
                imap_last_uid bigint NOT NULL DEFAULT 0,
                next_poll_at timestamptz NOT NULL,
                lease_until timestamptz NULL,
                last_polled_at timestamptz NULL,
                last_error text NULL,
                consecutive_failures integer NOT NULL DEFAULT 0,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                CONSTRAINT ck_space_channels_kind CHECK (kind IN ('caldav', 'imip', 'graph'))
            );
            CREATE INDEX ix_space_channels_next_poll_at ON space_channels (next_poll_at);

            CREATE TABLE space_channel_items (
                space_id uuid NOT NULL REFERENCES space_channels (space_id) ON DELETE CASCADE,
                uid text NOT NULL,
                organization_id uuid NOT NULL REFERENCES organizations (id),
                channel text NOT NULL,
                reference text NULL,
                organizer_email text NOT NULL,
                organizer_name text NULL,
                sequence integer NOT NULL,
                summary text NOT NULL,
                start_at timestamptz NOT NULL,
                end_at timestamptz NOT NULL,
                cancelled boolean NOT NULL DEFAULT false,
                answered_partstat text NULL,
                answered_sequence integer NULL,
                answered_at timestamptz NULL,
                received_at timestamptz NOT NULL,
                PRIMARY KEY (space_id, uid)
            );
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("DROP TABLE IF EXISTS space_channel_items; DROP TABLE IF EXISTS space_channels;");
}
