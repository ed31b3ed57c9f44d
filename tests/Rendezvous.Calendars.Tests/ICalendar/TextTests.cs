using Rendezvous.Calendars.ICalendar;

namespace Rendezvous.Calendars.Tests.ICalendar;

public class TextTests
{
    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a,b;c\\d", "a\\,b\\;c\\\\d")]
    [InlineData("line1\nline2", "line1\\nline2")]
    [InlineData("crlf\r\nlone\rcr", "crlf\\nlone\\ncr")]
    [InlineData("", "")]
    public void Escape_follows_rfc5545(string text, string escaped) => ICalendarText.Escape(text).ShouldBe(escaped);

    [Theory]
    [InlineData("a\\,b\\;c\\\\d", "a,b;c\\d")]
    [InlineData("x\\ny\\Nz", "x\ny\nz")]
    [InlineData("foo \\\\nbar", "foo \\nbar")]
    [InlineData("unknown \\q escape", "unknown \\q escape")]
    [InlineData("trailing \\", "trailing \\")]
    public void Unescape_follows_rfc5545(string value, string text) => ICalendarText.Unescape(value).ShouldBe(text);

    [Fact]
    public void Escape_then_unescape_is_identity_apart_from_carriage_returns()
    {
        const string text = "Ünïcødé, 日本; \\ back\nslash 😀";

        ICalendarText.Unescape(ICalendarText.Escape(text)).ShouldBe(text);
    }
}
