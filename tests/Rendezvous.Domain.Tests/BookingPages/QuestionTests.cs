using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Tests.Support;

namespace Rendezvous.Domain.Tests.BookingPages;

/// <summary>Custom questions of the booking form: kept in order with the settings, with ids that key the answers.</summary>
public class QuestionTests
{
    private static BookingPageSettingsSpec Spec(params QuestionSpec[] questions) => new()
    {
        DurationMinutes = 30,
        TimeZone = "Europe/Berlin",
        Questions = questions,
    };

    [Fact]
    public void Questions_survive_the_round_trip_through_the_stored_form_in_order()
    {
        var settings = Spec(new QuestionSpec("company", "Company", true), new QuestionSpec("topic", "Topic?", null)).ToSettings().Value;
        settings.Questions.ShouldBe([new BookingQuestion("company", "Company", true), new BookingQuestion("topic", "Topic?", false)]);
        var again = BookingPageSettingsSpec.FromSettings(settings).ToSettings().Value;
        again.Questions.ShouldBe(settings.Questions);
    }

    [Fact]
    public void A_page_without_questions_has_none()
    {
        Spec().ToSettings().Value.Questions.ShouldBeEmpty();
        (new BookingPageSettingsSpec { DurationMinutes = 30, TimeZone = "UTC" }).ToSettings().Value.Questions.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("notes", "Notes", "questions[0].id")]
    [InlineData("guests", "Guests", "questions[0].id")]
    [InlineData("Upper", "Label", "questions[0].id")]
    [InlineData("-dash", "Label", "questions[0].id")]
    [InlineData("", "Label", "questions[0].id")]
    [InlineData("ok", "", "questions[0].label")]
    [InlineData("ok", "two\nlines", "questions[0].label")]
    public void Bad_ids_and_labels_are_named(string id, string label, string field)
    {
        var result = Spec(new QuestionSpec(id, label, false)).ToSettings();
        result.IsSuccess.ShouldBeFalse();
        result.Error!.Fields.Select(f => f.Field).ShouldContain(field);
    }

    [Fact]
    public void Ids_are_unique_and_at_most_twenty_questions_are_asked()
    {
        Spec(new QuestionSpec("a", "A", false), new QuestionSpec("a", "Again", false)).ToSettings().Error!.Fields
            .Select(f => f.Field).ShouldBe(["questions[1].id"]);
        var many = Enumerable.Range(0, 21).Select(i => new QuestionSpec($"q{i}", $"Question {i}", false)).ToArray();
        Spec(many).ToSettings().Error!.Fields.Select(f => f.Field).ShouldContain("questions");
    }
}
