using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Rendezvous.Data.Migrations;

/// <summary>
/// Failed password sign-ins counted per (account, client address) and per account (address '*'), for staff and portal
/// customers alike (decision 0022). Read and written with SQL only, outside the EF model, so the snapshot is unchanged.
/// The older users.failed_sign_ins and users.locked_until columns are no longer used and are dropped.
/// </summary>
[DbContext(typeof(RendezvousDbContext))]
[Migration("202612060017_SignInThrottle")]
public sealed class M0017SignInThrottle : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("""
            CREATE TABLE sign_in_failures (
                kind text NOT NULL CONSTRAINT ck_sign_in_failures_kind CHECK (kind IN ('staff', 'portal')),
                account_id uuid NOT NULL,
                address text NOT NULL,
                failures integer NOT NULL,
                locked_until timestamptz NULL,
                PRIMARY KEY (kind, account_id, address)
            );
            ALTER TABLE users DROP COLUMN IF EXISTS failed_sign_ins, DROP COLUMN IF EXISTS locked_until;
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            DROP TABLE IF EXISTS sign_in_failures;
            ALTER TABLE users
                ADD COLUMN IF NOT EXISTS failed_sign_ins integer NOT NULL DEFAULT 0,
                ADD COLUMN IF NOT EXISTS locked_until timestamptz NULL;
            """);
}
