using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Rendezvous.Data.Migrations;

/// <summary>Staff sign-in for the web application: a hashed password per user and the lockout counters.</summary>
[DbContext(typeof(RendezvousDbContext))]
[Migration("202611200010_StaffSignIn")]
public sealed class M0010StaffSignIn : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("""
            ALTER TABLE users
                ADD COLUMN password_hash text NULL,
                ADD COLUMN failed_sign_ins integer NOT NULL DEFAULT 0,
                ADD COLUMN locked_until timestamptz NULL;
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE users DROP COLUMN IF EXISTS password_hash, DROP COLUMN IF EXISTS failed_sign_ins, DROP COLUMN IF EXISTS locked_until;
            """);
}
